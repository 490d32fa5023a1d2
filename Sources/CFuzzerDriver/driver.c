#define _GNU_SOURCE
#include "CFuzzerDriver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int netinspect_fuzzer_linked(void) { return LLVMFuzzerRunDriver != NULL; }

static int replay_file(const char *path, netinspect_fuzz_callback callback) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    callback(buf, n);
    free(buf);
    fprintf(stderr, "%s: %zu bytes, ok\n", path, n);
    return 0;
}

int netinspect_fuzz_main(int argc, char **argv, const char *name, netinspect_fuzz_callback callback) {
    if (LLVMFuzzerRunDriver == NULL) {
        if (argc < 2) {
            fprintf(stderr,
                    "%s: built without libFuzzer; build it with scripts/fuzz (swift build -c release "
                    "--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address ...).\n"
                    "Without it, '%s FILE...' runs each input file once (replays a reproducer).\n",
                    name, name);
            return 1;
        }
        int status = 0;
        for (int i = 1; i < argc; i++) {
            if (argv[i][0] == '-') continue;  // libFuzzer flags: ignored when replaying
            status |= replay_file(argv[i], callback);
        }
        return status;
    }
    const char *bt = getenv("SWIFT_BACKTRACE");
    if (bt == NULL || strstr(bt, "enable=no") == NULL) {
        setenv("SWIFT_BACKTRACE", "enable=no", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "%s: cannot re-execute with SWIFT_BACKTRACE=enable=no (%s); set it yourself\n",
                name, strerror(errno));
        return 1;
    }
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
