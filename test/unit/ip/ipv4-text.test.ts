import { Address4 } from "ip-address";
import { describe, expect, it } from "vitest";
import { parseAddressText } from "../../../lib/ip/address.ts";
import { ipAddressModule } from "../../../lib/ip/ip-address-module.ts";

/** ip-address's verdict on IPv4 text, which parseAddressText used to ask for and must keep. */
function ipAddressReads(text: string): bigint | "refused" {
  return Address4.isValid(text) ? new Address4(text).bigInt() : "refused";
}

function weReads(text: string): bigint | "refused" {
  try {
    return parseAddressText(text).value;
  } catch {
    return "refused";
  }
}

describe("IPv4 text, read without ip-address", () => {
  it("accepts and refuses exactly what ip-address does, octet by octet", () => {
    const octets = ["0", "1", "9", "00", "01", "09", "10", "99", "100", "199", "200", "249", "250", "255", "256", "299", "300", "012", "1000", ""];
    for (const a of octets) {
      for (const b of ["0", "255", "01", "256", ""]) {
        const text = `${a}.${b}.${a}.${b}`;
        expect(weReads(text), text).toBe(ipAddressReads(text));
      }
    }
  });

  it("agrees with ip-address on dotted text of every shape", () => {
    for (const text of ["1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "....", "255.255.255.255", "0.0.0.0", "127.000.0.1", "1.2.3.4"]) {
      expect(weReads(text), text).toBe(ipAddressReads(text));
    }
  });
});

describe("the ip-address package, loaded on first use", () => {
  it("is the package itself, loaded once", () => {
    expect(ipAddressModule().Address6).toBeTypeOf("function");
    expect(ipAddressModule()).toBe(ipAddressModule());
    expect(new (ipAddressModule().Address6)("fd00::1").bigInt()).toBe(0xfd00_0000_0000_0000_0000_0000_0000_0001n);
  });
});
