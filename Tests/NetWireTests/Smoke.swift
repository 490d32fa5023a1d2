import Testing
@testable import NetWire

@Test func smoke() { #expect(Layer.ipv4.name.description == "ip") }
