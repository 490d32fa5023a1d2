#ifndef NETINSPECT_CFUZZERDRIVER_H
#define NETINSPECT_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have their own `main` (SwiftPM's executables do).
/// Declared weak: it is only defined when the program is linked with `-sanitize=fuzzer`; in an
/// ordinary build it resolves to NULL and the program still links.
int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*callback)(const uint8_t *data, size_t size)) __attribute__((weak));

/// The fuzz input callback: one input, returns 0 (libFuzzer's convention; -1 = do not add to corpus).
typedef int (*netinspect_fuzz_callback)(const uint8_t *data, size_t size);

/// Shared `main` of the fuzz targets (see scripts/fuzz).
///
/// - Built with `-sanitize=fuzzer`: hands argc/argv to libFuzzer (all libFuzzer flags work). Makes
///   sure the Swift runtime's backtracer is off first (`SWIFT_BACKTRACE=enable=no`, re-executing
///   itself if needed): otherwise the backtracer owns SIGILL/SIGTRAP, libFuzzer does not install
///   its own handlers, and a Swift trap ends the run without a crash file.
/// - Ordinary build: with file arguments, runs each file through `callback` once (to replay a
///   reproducer without the sanitizer) and returns 0; with none, says how to build a fuzzer on
///   stderr and returns 1.
int netinspect_fuzz_main(int argc, char **argv, const char *name, netinspect_fuzz_callback callback);

/// 1 when libFuzzer is linked in.
int netinspect_fuzzer_linked(void);

#endif
