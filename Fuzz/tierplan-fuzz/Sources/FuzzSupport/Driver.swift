#if canImport(Glibc)
import Glibc
#endif
import TierPlanCore

/// libFuzzer's own driver, from libclang_rt.fuzzer_no_main (linked by scripts/fuzz.sh).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Runs libFuzzer with the process's arguments (corpus directories, -max_total_time=…, or crash
/// files to replay) over `testOneInput`, and exits with its status.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// The input as bytes (libFuzzer may pass a null pointer with size 0).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The last line an error may name: the text's lines, every line break YAML knows counted (LF, CR,
/// CRLF, NEL, LS, PS), a final line break starting no new line; at least 1 (an empty file's line 1).
public func maxLine(of text: String) -> Int {
    var lines = 0, open = false
    for c in text {
        if c == "\n" || c == "\r\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" { lines += 1; open = false }
        else { open = true }
    }
    return max(1, lines + (open ? 1 : 0))
}

/// A refusal must name the input file and a line that exists: anything else is a bug (crash).
public func checkLocated(_ errors: InputErrors, file: String, maxLine: Int) {
    precondition(!errors.errors.isEmpty, "InputErrors with no error")
    for error in errors.errors {
        precondition(error.file == file, "error names file \(error.file), not \(file)")
        precondition((1...maxLine).contains(error.line), "error line \(error.line) outside 1...\(maxLine): \(error)")
        precondition(!error.description.isEmpty)
    }
}
