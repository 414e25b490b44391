// Shared by TierPlanCoreTests and TierPlanStoreTests (Tests/TierPlanStoreTests/ParserMutator.swift
// is a symbolic link to this file): a seeded random source and the byte mutations of the parser
// property tests. No clock, no new dependency: the same seed gives the same inputs everywhere.

/// SplitMix64 (Steele, Lea, Flood 2014), written out here rather than TierPlanCore.SplitMix64 so
/// that the inputs do not change when the forecaster's generator does.
struct PropertyRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Byte-level mutations of valid inputs: bit flips, truncation, deletion, duplication, and
/// insertion of separators, quotes, line breaks, huge numbers and invalid UTF-8.
struct ParserMutator {
    static let tokens: [[UInt8]] = [
        ",", "\"", "\"\"", "\n", "\r\n", "\r", ":", ";", "{", "}", "[", "]", "- ", "? ", "&a ", "*a", "#", "\\", "\\u", "\\ud800",
        "\\ud83d\\ude00", "null", "~", "1e300", "-1", "0.001", ".nan", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "92233720368547758", "99999999999999999999999999", "2026-02-30", "24:00:00", "+14:00",
    ].map { Array($0.utf8) } + [
        [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0x00], [0xE2, 0x80, 0xA8], [0xC2, 0x85],
    ]

    var rng: PropertyRNG

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(4) { step(&bytes) }
        return bytes
    }

    mutating func step(_ bytes: inout [UInt8]) {
        let n = bytes.count
        switch rng.below(7) {
        case 0 where n > 0:   // flip a bit
            bytes[rng.below(n)] ^= UInt8(1 << rng.below(8))
        case 1 where n > 0:   // truncate
            bytes.removeSubrange(rng.below(n)...)
        case 2 where n > 0:   // delete a range
            let start = rng.below(n)
            bytes.removeSubrange(start..<min(n, start + 1 + rng.below(16)))
        case 3 where n > 0:   // duplicate a range
            let start = rng.below(n)
            let piece = bytes[start..<min(n, start + 1 + rng.below(64))]
            bytes.insert(contentsOf: piece, at: rng.below(n + 1))
        case 4 where n > 0:   // replace a run of digits by a huge number
            let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
            if digits.isEmpty { bytes.insert(contentsOf: rng.pick(Self.tokens), at: rng.below(n + 1)); return }
            let at = rng.pick(digits)
            var end = at
            while end < n, (48...57).contains(bytes[end]) { end += 1 }
            bytes.replaceSubrange(at..<end, with: rng.pick(["9223372036854775807", "99999999999999999999", "1e300", "-0"]).utf8)
        case 5:               // random byte
            bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(n + 1))
        default:              // insert a token
            bytes.insert(contentsOf: rng.pick(Self.tokens), at: rng.below(n + 1))
        }
    }

    /// Random bytes, mostly printable.
    mutating func noise(maxLength: Int) -> [UInt8] {
        (0..<rng.below(maxLength + 1)).map { _ in
            rng.below(4) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(32 + rng.below(95))
        }
    }
}

/// The last line an error may name (lines as YAML counts them; a final line break starts no line).
func lastLine(of text: String) -> Int {
    var lines = 0, open = false
    for c in text {
        if c == "\n" || c == "\r\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" { lines += 1; open = false }
        else { open = true }
    }
    return max(1, lines + (open ? 1 : 0))
}
