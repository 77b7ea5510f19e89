/// The status page `GET /` serves: one self-contained HTML document.
enum StatusPage {
    static let bytes: [UInt8] = Array(html.utf8)
    static let html = "<!doctype html><title>driftwood</title>"
}
