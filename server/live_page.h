/* live_page.h -- the /live page: HTML, CSS and a small script, self-contained (no external
 * URL), as two string literals; live.c puts the bounds paragraph between the head and the tail
 * (a macro, not an array: a header defines no data). The page's prose is English. */
#ifndef LIVE_PAGE_H
#define LIVE_PAGE_H

#define LIVE_PAGE_HEAD \
"<!doctype html>\n" \
"<!-- /live: the class view, for the teacher's projector.\n" \
"  Stable ids (tests and the DevTools test rely on them):\n" \
"    #status   the stream's state, in words\n" \
"    #bounds   the bounds this server keeps (viewers, queue, history, heartbeat)\n" \
"    #rows     a tbody: one <tr data-conn=\"N\"> per connection, newest first; its cells\n" \
"              have the classes c-id c-addr c-proto c-kx c-sni c-hs c-state c-req c-ladder;\n" \
"              a row gets data-state=\"open\" or \"closed\"\n" \
"    #dropped  the number of events dropped for this viewer (its queue was full)\n" \
"    #detail   an iframe: /live/conn/N of the row clicked\n" \
"  The stream (/live/events, Server-Sent Events): event hello (bounds, JSON), ev (one of the\n" \
"  server's events, JSON: the log's record without its teaching text), ladder (conn id, then\n" \
"  the small ladder as SVG), hide (a viewer's own connection: not shown), dropped (a count),\n" \
"  bye (the server stops). Text from the network goes in with textContent only; a ladder, drawn\n" \
"  by the server, goes in as an <img> data: URL, which runs no script. -->\n" \
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n" \
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
"<title>handshake-lab: live</title>\n" \
"<link rel=\"icon\" href=\"data:,\">  <!-- no /favicon.ico request: it would be a row -->\n" \
"<style>\n" \
"body{font-family:sans-serif;margin:1em;font-size:18px}\n" \
"table{border-collapse:collapse;width:100%}\n" \
"th,td{border-bottom:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:middle}\n" \
"tr[data-conn]{cursor:pointer}\n" \
"tr[data-conn]:hover{background:#eef}\n" \
"tr[data-state=closed]{color:#777}\n" \
"td.c-ladder img{max-height:64px;max-width:240px}\n" \
"#detail{width:100%;height:70vh;border:1px solid #ccc;margin-top:1em}\n" \
"#bounds{font-size:14px;color:#555}\n" \
"</style></head><body>\n" \
"<h1>Connections to this server, as they arrive</h1>\n" \
"<p>Each row is one connection: who, which protocol, which key exchange, how long the TLS " \
"handshake took (accept to Finished, as the server saw it), open or closed. Click a row for " \
"its full ladder. <span id=\"status\">connecting...</span> " \
"Dropped: <span id=\"dropped\">0</span>.</p>\n"

#define LIVE_PAGE_TAIL \
"<table><thead><tr><th>#</th><th>client</th><th>protocol</th><th>key exchange</th>" \
"<th>SNI</th><th>handshake</th><th>state</th><th>last request</th><th>ladder</th></tr>" \
"</thead>\n<tbody id=\"rows\"></tbody></table>\n" \
"<iframe id=\"detail\" title=\"the connection clicked\"></iframe>\n" \
"<script>\n" \
"'use strict';\n" \
"(function () {\n" \
"  var SVGNS = 'http://www.w3.org/2000/svg';  /* a name, never fetched */\n" \
"  var MAXROWS = 300;\n" \
"  var tok = new URLSearchParams(location.search).get('token');\n" \
"  var tq = tok ? '?token=' + encodeURIComponent(tok) : '';\n" \
"  var rows = document.getElementById('rows');\n" \
"  var status = document.getElementById('status');\n" \
"  var dropped = 0, byId = {};\n" \
"  var cells = ['c-id', 'c-addr', 'c-proto', 'c-kx', 'c-sni', 'c-hs', 'c-state', 'c-req',\n" \
"               'c-ladder'];\n" \
"  function set(tr, c, text) { tr.querySelector('.' + c).textContent = text; }\n" \
"  function row(id) {\n" \
"    var tr = byId[id];\n" \
"    if (tr) return tr;\n" \
"    tr = document.createElement('tr');\n" \
"    tr.dataset.conn = String(id);\n" \
"    cells.forEach(function (c) {\n" \
"      var td = document.createElement('td');\n" \
"      td.className = c;\n" \
"      tr.appendChild(td);\n" \
"    });\n" \
"    set(tr, 'c-id', String(id));\n" \
"    set(tr, 'c-addr', '(open before this page)');\n" \
"    tr.addEventListener('click', function () {\n" \
"      document.getElementById('detail').src = '/live/conn/' + id + tq;\n" \
"    });\n" \
"    byId[id] = tr;\n" \
"    var at = rows.firstChild;  /* newest (highest id) first */\n" \
"    while (at && Number(at.dataset.conn) > id) at = at.nextSibling;\n" \
"    rows.insertBefore(tr, at);\n" \
"    while (rows.rows.length > MAXROWS) {\n" \
"      var last = rows.rows[rows.rows.length - 1];\n" \
"      delete byId[last.dataset.conn];\n" \
"      rows.removeChild(last);\n" \
"    }\n" \
"    return tr;\n" \
"  }\n" \
"  function proto(tr) {\n" \
"    var p = tr.tls ? 'HTTPS ' + tr.tls : 'HTTP';\n" \
"    if (tr.http) p += ' ' + tr.http;\n" \
"    set(tr, 'c-proto', p);\n" \
"  }\n" \
"  function on(name, fn) { es.addEventListener(name, fn); }\n" \
"  var es = new EventSource('/live/events' + tq);\n" \
"  on('hello', function (m) {\n" \
"    var h = {};\n" \
"    try { h = JSON.parse(m.data); } catch (x) { }\n" \
"    status.textContent = 'live: viewer ' + h.viewers + ' of at most ' + h.viewers_max + '.';\n" \
"  });\n" \
"  on('ev', function (m) {\n" \
"    var e;\n" \
"    try { e = JSON.parse(m.data); } catch (x) { return; }\n" \
"    if (!e.conn) return;\n" \
"    var tr = row(e.conn);\n" \
"    switch (e.event) {\n" \
"    case 'established':\n" \
"      set(tr, 'c-addr', e.remote || '');\n" \
"      tr.title = 'to ' + (e.local || '');\n" \
"      tr.dataset.state = 'open';\n" \
"      set(tr, 'c-state', 'open');\n" \
"      proto(tr);\n" \
"      break;\n" \
"    case 'message':\n" \
"      if (e.type === 'ClientHello') set(tr, 'c-proto', 'TLS handshake...');\n" \
"      break;\n" \
"    case 'key_exchange':\n" \
"      set(tr, 'c-kx', (e.kx || '') + (e.group ? ' ' + e.group : ''));\n" \
"      break;\n" \
"    case 'handshake_done':\n" \
"      tr.tls = e.version || 'TLS';\n" \
"      proto(tr);\n" \
"      set(tr, 'c-sni', e.sni || '');\n" \
"      if (typeof e.handshake_ms === 'number')\n" \
"        set(tr, 'c-hs', e.handshake_ms.toFixed(1) + ' ms' + (e.resumed ? ' (resumed)' : ''));\n" \
"      break;\n" \
"    case 'request':\n" \
"      tr.http = e.version || '';\n" \
"      proto(tr);\n" \
"      set(tr, 'c-req', (e.method || '') + ' ' + (e.target || ''));\n" \
"      break;\n" \
"    case 'closed':\n" \
"    case 'reset':\n" \
"      tr.dataset.state = 'closed';\n" \
"      set(tr, 'c-state', e.event + (e.reason ? ': ' + e.reason : ''));\n" \
"      break;\n" \
"    case 'tls_error':\n" \
"    case 'alert':\n" \
"    case 'http_error':\n" \
"    case 'error':\n" \
"      set(tr, 'c-state', e.event + ': ' + (e.reason || e.description || e.detail || ''));\n" \
"      break;\n" \
"    }\n" \
"  });\n" \
"  on('ladder', function (m) {\n" \
"    var i = m.data.indexOf('\\n');\n" \
"    var tr = byId[m.data.slice(0, i)];\n" \
"    if (i < 0 || !tr) return;\n" \
"    var svg = m.data.slice(i + 1);\n" \
"    if (svg.indexOf('xmlns=') < 0) svg = svg.replace('<svg', '<svg xmlns=\"' + SVGNS + '\"');\n" \
"    var img = document.createElement('img');\n" \
"    img.alt = 'ladder of connection ' + tr.dataset.conn;\n" \
"    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);\n" \
"    var td = tr.querySelector('.c-ladder');\n" \
"    td.textContent = '';\n" \
"    td.appendChild(img);\n" \
"  });\n" \
"  on('hide', function (m) {\n" \
"    var tr = byId[m.data];\n" \
"    if (tr) { rows.removeChild(tr); delete byId[m.data]; }\n" \
"  });\n" \
"  on('dropped', function (m) {\n" \
"    dropped += parseInt(m.data, 10) || 0;\n" \
"    document.getElementById('dropped').textContent = String(dropped) +\n" \
"      ' (this page read too slowly: the server dropped them rather than queue without end)';\n" \
"  });\n" \
"  on('bye', function () { status.textContent = 'the server stopped.'; es.close(); });\n" \
"  es.onerror = function () {\n" \
"    if (es.readyState !== EventSource.CLOSED) status.textContent = 'disconnected; retrying...';\n" \
"  };\n" \
"})();\n" \
"</script>\n" \
"</body></html>\n"

#endif
