"""The pages and the server agree on event types (docs/SAFETY.md H4).

A page reacts to a named SSE event only through a listener for that exact
name, so a page that names a type the server never sends waits for nothing,
and a type the server sends that no page names is dropped in silence (HL7 A13
reopenings were, once).  These checks read the source, no daemon needed:

- which types the server emits, from server/*.c (the places that write an
  outbox event or a stream frame), and that docs/API.md's event table lists
  exactly those;
- which types each page under server/static asks for and listens to (its
  STREAM_TYPES, given to CB.Live in common.js, the one place that opens an
  EventSource), and that each is emitted and each page has exactly the ones
  that change what it shows.
"""
import pathlib
import re

TOP = pathlib.Path(__file__).resolve().parents[2]
STATIC = TOP / "server" / "static"
TYPE = r"[a-z_]+\.[a-z_]+"
# A string literal in a page script that looks like an event type ("episode." alone is a prefix).
PAGE_TYPE_LITERAL = re.compile(r'"((?:episode|task|assessment|delay|chase|ward|task_template|user'
                               r'|review|barrier|referral)\.[a-z_*]+)"')


def emitted_by_server():
    """Every event type the server can send, read from server/*.c."""
    types = set()
    for f in sorted((TOP / "server").glob("*.c")):
        text = f.read_text()
        # named by C code: store_add_event(req, "x", ...), an episode or assessment change's
        # event_type, an admin change's add_tail(req, w, SQL_..._EVENT, "x", ...)
        types |= set(re.findall(r'store_add_event\(\s*\w+,\s*"(' + TYPE + ')"', text))
        # a referral's: add_event(req, id, "x", step) in store_referral.c
        types |= set(re.findall(r'\badd_event\(\s*\w+,\s*[\w>-]+,\s*"(' + TYPE + ')"', text))
        types |= set(re.findall(r'event_type\s*=\s*"(' + TYPE + ')"', text))
        types |= set(re.findall(r'add_tail\(\s*\w+,\s*\w+,\s*SQL_\w*EVENT,\s*"(' + TYPE + ')"',
                                text))
        # written by SQL: INSERT INTO events (...) SELECT 'x', ... (otherwise the type is $1,
        # named by one of the calls above)
        for m in re.finditer(r"INSERT INTO events \([^)]*\)", text):
            rest = text[m.end():m.end() + 200]
            lit = re.match(r"""[\s"]*SELECT '(""" + TYPE + ")'", rest)
            assert lit or re.match(r"""[\s"]*(SELECT|VALUES \()\s*\$1\b""", rest), \
                f"{f.name}: an INSERT INTO events whose type this test cannot read: {rest!r}"
            if lit:
                types.add(lit.group(1))
        # chases: "chase.<kind>", the kinds being those of the due-work query
        if 'xasprintf("chase.%s"' in text:
            # (a barrier chase is about the episode itself: its id is both)
            kinds = re.findall(r"\"SELECT '(\w+)', \w+\.id, \w+\.(?:episode_)?id\b", text)
            assert kinds, f"{f.name}: no chase kinds found"
            types |= {f"chase.{k}" for k in kinds}
        # frames of the stream itself (reset)
        types |= set(re.findall(r"event: ([a-z_]+)\\n", text))
    return types


def documented():
    """The types in docs/API.md's "Event types" table (first column)."""
    text = (TOP / "docs" / "API.md").read_text()
    section = text.split("### Event types", 1)[1]
    types = set()
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("| `"):
            types |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return types


def page_scripts():
    return sorted(p for p in STATIC.glob("*.js") if p.name != "common.js")


def stream_types(page):
    """(types the page asks for and listens to, whether it opens a stream at all)."""
    text = page.read_text()
    calls = re.findall(r"new CB\.Live\(\s*(\w*)", text)
    if not calls:
        return [], False
    assert all(c == "STREAM_TYPES" for c in calls), \
        f"{page.name}: every CB.Live must be given STREAM_TYPES: {calls}"
    m = re.search(r"const STREAM_TYPES = \[([^\]]*)\];", text)
    assert m, f"{page.name}: opens a stream but declares no STREAM_TYPES"
    return re.findall(r'"([^"]*)"', m.group(1)), True


def family(types, prefix):
    return {t for t in types if t.startswith(prefix + ".")}


def test_the_server_source_is_read():
    """Guard for the reader above: the types every part of the server emits are found."""
    e = emitted_by_server()
    for t in ("episode.admitted", "episode.ready", "episode.reopened", "episode.cancelled",
              "episode.transferred", "referral.created", "referral.updated",
              "task.updated", "task.overdue", "delay.closed", "delay.opened", "chase.task",
              "chase.barrier", "ward.created", "task_template.updated", "user.disabled", "reset"):
        assert t in e, t
    # audit actions share the names' shape but are not events
    assert not e & {"episode.update", "episode.reopen", "task.update", "assessment.claim",
                    "delay.set_reason", "stream.open"}


def test_api_md_lists_exactly_the_types_the_server_emits():
    assert documented() == emitted_by_server()


def test_only_common_js_opens_a_stream_and_it_names_no_types():
    """One EventSource, in CB.Live; the types are the pages' own (no shared list to drift)."""
    for p in sorted(STATIC.glob("*.js")):
        text = p.read_text()
        if p.name == "common.js":
            assert "new EventSource(" in text
            assert PAGE_TYPE_LITERAL.findall(text) == []
            assert 'addEventListener("message"' not in text  # every frame is named
        else:
            assert "EventSource" not in text, p.name
    for p in STATIC.glob("*.html"):
        assert "EventSource" not in p.read_text(), p.name


def test_pages_listen_only_for_types_the_server_emits():
    emitted = emitted_by_server()
    opened = []
    for page in page_scripts():
        types, opens = stream_types(page)
        if opens:
            opened.append(page.name)
            assert types, page.name
            assert len(types) == len(set(types)), f"{page.name}: a type twice"
            assert len(types) <= 32, f"{page.name}: the stream takes at most 32 types"
            assert set(types) <= emitted, (page.name, set(types) - emitted)
        # any other type the script names (in its handlers) must exist too
        named = set(PAGE_TYPE_LITERAL.findall(page.read_text()))
        assert named <= emitted, (page.name, named - emitted)
        assert named <= set(types), (page.name, "handles types it does not ask for",
                                     named - set(types))
    assert sorted(opened) == ["dashboard.js", "hub.js", "queue.js", "ward.js"]


def test_each_page_listens_for_what_changes_it():
    """Exactly the emitted types that change what each page shows; every episode event
    (A13 reopening, A11 cancelling, transfers included) on the dashboard and ward board."""
    e = emitted_by_server()
    episode = family(e, "episode")
    assert {"episode.reopened", "episode.cancelled", "episode.transferred"} <= episode
    want = {
        # occupancy, NCTR (readiness, reviews), primary barriers, overdue tasks, the sitrep
        # submitted (issue 14: no delays, their reasons are barriers), each NCTR patient's
        # referral state (issue 15) and open tasks (issue 16: a new task adds one, so
        # task.created too)
        "dashboard.js": episode | family(e, "barrier") | family(e, "referral")
        | {"review.recorded", "task.created", "task.updated", "task.overdue", "sitrep.submitted"},
        # patients, their task and referral chips, the delayed badge, the last review and
        # the "not reviewed" marker, the primary barrier (issue 14); the involvement in
        # discharge planning in the patient dialog (issue 15)
        "ward.js": episode | family(e, "task") | family(e, "referral") | family(e, "delay")
        | family(e, "review") | family(e, "barrier") | family(e, "involvement"),
        # the referrals (issue 15; they were assessments), and what is shown with each (issue
        # 16: ward, bed, name, EDD, pathway, NCTR, primary barrier, and the episode's state: a
        # discharge takes a case off the queue)
        "queue.js": family(e, "referral") | (episode - {"episode.admitted"})
        | family(e, "barrier"),
        # the hub's page: its organisation's referrals, nothing else (issue 15)
        "hub.js": family(e, "referral"),
    }
    for page in page_scripts():
        types, opens = stream_types(page)
        if opens:
            assert set(types) == want.pop(page.name), page.name
    assert want == {}, f"pages that should open a stream: {sorted(want)}"
