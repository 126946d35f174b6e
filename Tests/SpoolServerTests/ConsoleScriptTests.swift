import Testing
@testable import SpoolServer

/// The console's script builds the page from API data with DOM calls only: record contents, job
/// keys, ids and errors are attacker-controlled text, so nothing may parse them as markup.
struct ConsoleScriptTests {
    @Test func theScriptNeverParsesDataAsMarkup() {
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!ConsoleScript.source.contains(sink), "\(sink)")
        }
    }
}
