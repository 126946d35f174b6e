/// The console's one HTML page; `console.js` fills `main` from the JSON API, by the URL's hash
/// (`#/`, `#/topics/NAME`, `#/groups/GROUP`, `#/jobs`, `#/dead-letters/TOPIC`).
enum ConsolePage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spool console</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="#/">Spool</a>
  <nav>
    <a href="#/" data-nav="overview">Overview</a>
    <a href="#/jobs" data-nav="jobs">Jobs &amp; dead letters</a>
  </nav>
  <span id="status" class="status" role="status"></span>
</header>
<main id="view"><p class="muted">Loading…</p></main>
<noscript>The console needs JavaScript; the same data is at /api/v1/overview.</noscript>
</body>
</html>
"""#
}
