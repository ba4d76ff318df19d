DESCRIBE = """() => { const e = document.activeElement; if (!e) return 'null';
  return e.tagName + '#' + e.id + '[' + (e.name||'') + '=' + (e.value||'').slice(0,20) + '] ' + (e.textContent||'').trim().slice(0,30); }"""

def test_explore(visit, live_desk):
    v = visit("explore")
    v.login("li.ming@acme.example.com")
    page = v.page
    v.goto("/requests/new")
    out = []
    for i in range(40):
        page.keyboard.press("Tab")
        out.append(page.evaluate(DESCRIBE))
    s = visit("staff")
    s.login("supervisor@desk.example.com", staff=True)
    s.goto("/staff/queue")
    out.append("=== staff")
    for i in range(40):
        s.page.keyboard.press("Tab")
        out.append(s.page.evaluate(DESCRIBE))
    out.append(str(s.page.locator("#queue-table tbody tr").count()))
    out.append(str(s.page.locator(".pager a").all_text_contents()))
    open("/tmp/kbx/out.txt", "w").write("\n".join(out))
