import Hummingbird

/// The interface's one style sheet and one small script, served by the daemon itself: no build chain, nothing
/// fetched from elsewhere. Reading works without the script; it adds keyboard moves.
enum WebAssets {
    static func response(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static let css = """
        :root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fdfdfb; --muted: #5c5c5c; --line: #d6d6d0; --accent: #0b57a4;
          --mark: #fff0a0; --del: #ffd7d5; --ins: #d3f5d3; --error: #a4120b; }
        @media (prefers-color-scheme: dark) {
          :root { --fg: #e8e8e3; --bg: #161716; --muted: #a9a9a2; --line: #3b3c3a; --accent: #8ec2ff; --mark: #5a4d00;
            --del: #5c1f1c; --ins: #1d4a22; --error: #ff9b94; }
        }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 60rem; padding: 0 1rem 3rem; font: 1rem/1.5 system-ui, sans-serif;
          color: var(--fg); background: var(--bg); }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus, .item.current { outline: 3px solid var(--accent);
          outline-offset: 2px; }
        header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; justify-content: space-between;
          padding: .75rem 0; border-bottom: 1px solid var(--line); }
        nav a { margin-right: .75rem; font-weight: 600; }
        header form { display: flex; gap: .25rem; flex: 1 1 16rem; max-width: 28rem; }
        header input { flex: 1; }
        input, select, textarea, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line);
          border-radius: 4px; padding: .2rem .4rem; }
        input, select, textarea { max-width: 100%; }
        label { display: inline-block; max-width: 100%; }
        button { cursor: pointer; background: var(--line); }
        button.small { padding: 0 .35rem; }
        textarea { width: 100%; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .25rem; }
        .hidden-label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        .filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 1rem 0; font-size: .95rem; }
        .items { padding-left: 1.5rem; }
        .items li { margin: .6rem 0; }
        .meta, small { color: var(--muted); font-size: .875rem; display: block; }
        .snippet { margin: .2rem 0 0; }
        mark { background: var(--mark); color: inherit; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        .facts dt { font-weight: 600; }
        .facts dd { margin: 0; overflow-wrap: anywhere; }
        .text p { max-width: 42rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: .925rem; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        code.hash { font-size: .8rem; overflow-wrap: anywhere; }
        form.inline { display: inline; }
        .tags { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
        .diff { white-space: pre-wrap; max-width: 42rem; }
        del { background: var(--del); }
        ins { background: var(--ins); text-decoration: none; }
        .error { color: var(--error); }
        iframe.raw { width: 100%; height: 75vh; border: 1px solid var(--line); background: #fff; }
        .pages a { margin-right: 1rem; }
        """

    /// j/k move between items, o or Enter opens one, / goes to the search box, g then a, s, f or t opens a section.
    static let javascript = """
        "use strict";
        (function () {
          let current = -1, pending = false;
          const items = () => Array.from(document.querySelectorAll(".item"));
          function move(by) {
            const list = items();
            if (!list.length) return;
            current = Math.max(0, Math.min(list.length - 1, current + by));
            list.forEach((item, index) => item.classList.toggle("current", index === current));
            list[current].scrollIntoView({ block: "nearest" });
            const link = list[current].querySelector("a");
            if (link) link.focus({ preventScroll: true });
          }
          document.addEventListener("keydown", (event) => {
            const target = event.target;
            if (event.ctrlKey || event.metaKey || event.altKey) return;
            if (target.closest && target.closest("input, textarea, select")) return;
            if (pending) {
              pending = false;
              const link = document.querySelector('nav a[data-key="' + event.key + '"]');
              if (link) { event.preventDefault(); location.href = link.href; }
              return;
            }
            switch (event.key) {
              case "j": event.preventDefault(); move(1); break;
              case "k": event.preventDefault(); move(-1); break;
              case "/": event.preventDefault(); document.getElementById("q").focus(); break;
              case "g": pending = true; break;
              case "o": {
                const list = items();
                const link = current >= 0 && list[current] ? list[current].querySelector("a") : null;
                if (link) location.href = link.href;
                break;
              }
            }
          });
        })();
        """
}
