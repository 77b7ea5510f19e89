import Foundation

/// Runs Python with numpy/scipy as the reference implementation: the test writes its data to
/// files in a temporary directory, the script reads them and prints its answer.
public enum NumPy {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A fresh temporary directory.
    public static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("driftwood-numpy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes doubles one per line, in a form that reads back exactly.
    public static func write(_ values: [Double], to name: String, in dir: URL) throws {
        try values.map { "\($0)" }.joined(separator: "\n").write(
            to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    public static func write(_ text: String, to name: String, in dir: URL) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// Runs `script` with python3 in `dir`; returns its stdout. Fails when python3, numpy or
    /// scipy are missing (`make test` installs them) or the script fails.
    public static func run(_ script: String, in dir: URL) throws -> String {
        let file = dir.appendingPathComponent("reference.py")
        try ("import numpy as np\nimport scipy.special\n" + script).write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", file.path]
        process.currentDirectoryURL = dir
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 failed (\(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The doubles printed one per line (`repr`), e.g. by `print("\n".join(map(repr, xs)))`.
    public static func doubles(_ text: String) -> [Double] {
        text.split(whereSeparator: \.isNewline).compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// A small deterministic random generator (SplitMix64), so failures reproduce.
public struct SeededRandom: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A whole number in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True `percent` times in a hundred.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    /// One of `items`.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
