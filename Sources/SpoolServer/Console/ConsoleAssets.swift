/// The console's page, script and style, compiled into the binary (no files beside it, no CDN).
enum ConsoleAssets {
    static let page = HTTPResponse(status: 200, headers: [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ], body: Array(ConsolePage.html.utf8))
    static let script = HTTPResponse(status: 200, headers: [("Content-Type", "text/javascript; charset=utf-8")], body: Array(ConsoleScript.source.utf8))
    static let style = HTTPResponse(status: 200, headers: [("Content-Type", "text/css; charset=utf-8")], body: Array(ConsoleStyle.source.utf8))
}
