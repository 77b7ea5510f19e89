import Foundation
import Testing

@testable import DriftwoodCore

@Suite struct JSONDuplicateKeysTests {
    func compact(_ s: String) throws -> String {
        String(decoding: try JSONCompactor.compact(Array(s.utf8)), as: UTF8.self)
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, #"{"a":2}"#),
        (#"{"a":1,"b":2,"a":3}"#, #"{"a":3,"b":2}"#),
        (#"{ "a" : 1 , "a" : {"x":1} }"#, #"{"a":{"x":1}}"#),
        (#"{"o":{"b":1,"b":[1,{"c":1,"c":2}]}}"#, #"{"o":{"b":[1,{"c":2}]}}"#),
        (#"[{"a":1,"a":2},{"a":3}]"#, #"[{"a":2},{"a":3}]"#),
        (#"{"a":1,"\u0061":2}"#, #"{"a":2}"#),
        (#"{"":1,"":2}"#, #"{"":2}"#),
    ])
    func lastValueWinsAndTheKeyIsWrittenOnce(_ input: String, _ expected: String) throws {
        #expect(try compact(input) == expected)
    }

    @Test func linesWithoutRepeatsAreUnchanged() throws {
        for s in [
            #"{"a":1,"b":2}"#, #"{"ab":1,"ba":2,"a1":{"a1":1}}"#, #"{"f1_x":1,"f2_x":2}"#, #"{"a":{"b":1},"b":{"a":1}}"#,
            #"[{"a":1},{"a":1}]"#,
        ] {
            #expect(try compact(s) == s)
        }
    }

    @Test func manyLookAlikeKeysAreExactAndLinear() throws {
        // 5,000 keys of one length with the same first and last byte defeat the filter: the
        // exact check after the pass decides, in linear time.
        var keys = (0..<5000).map { String(format: "k%04dz", $0) }
        let unique = "{" + keys.map { #""\#($0)":1"# }.joined(separator: ",") + "}"
        #expect(try compact(unique) == unique)
        keys.append("k0007z")
        let repeated = "{" + keys.enumerated().map { #""\#($0.element)":\#($0.offset)"# }.joined(separator: ",") + "}"
        let out = try compact(repeated)
        #expect(out.contains(#""k0007z":5000"#))
        #expect(out.components(separatedBy: "k0007z").count == 2)
    }

    @Test func validateReportsTheRewrittenMembers() throws {
        let bytes = Array(#"{"a":1,"b":2,"a":3}"#.utf8)
        var scratch: [UInt8] = []
        var spans: [MemberSpan] = []
        let placement = try bytes.withUnsafeBufferPointer {
            try JSONCompactor.validate($0, scratch: &scratch, members: &spans)
        }
        #expect(placement == .scratch)
        #expect(String(decoding: scratch, as: UTF8.self) == #"{"a":3,"b":2}"#)
        #expect(spans.count == 2)
        #expect(String(decoding: scratch[Int(spans[0].valueStart)..<Int(spans[0].valueEnd)], as: UTF8.self) == "3")
        var fields = Fields()
        scratch.withUnsafeBufferPointer { fields.merge(objectText: $0, spans: spans) }
        var out: [UInt8] = []
        fields.write(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"a":3,"b":2}"#)
    }
}
