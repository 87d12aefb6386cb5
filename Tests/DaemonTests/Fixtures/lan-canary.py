"""A site on a public-looking address and a canary on loopback, for the private-address tests.

Run inside a network namespace of the test's own, where 192.0.2.10 (a documentation address) is on the loopback
interface. The site serves two feeds whose links lead to the canary (directly, by name, and by redirect) and to a page
of its own; the canary logs every request it gets. Both exit when the process that started them does.

    python3 lan-canary.py SITE_PORT CANARY_PORT LOG
"""
import ctypes
import http.server
import signal
import sys
import threading

site_port, canary_port, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
site = f"http://192.0.2.10:{site_port}"
canary = f"http://127.0.0.1:{canary_port}"


def feed(name, links):
    items = "".join(
        f"<item><title>{name} {i}</title><link>{link}</link><guid>{name}-{i}</guid></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'.encode()


PAGES = {
    "/feed.xml": feed("remote", [f"{canary}/direct", f"http://localhost:{canary_port}/by-name", f"{site}/redirect",
                                 f"{site}/public.html"]),
    "/trusted.xml": feed("trusted", [f"{canary}/trusted"]),
    "/public.html": b"<html><head><title>Public</title></head><body><article><p>A public page, archived as it should be."
                    b"</p></article></body></html>",
}


class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"{canary}/redirected")
            self.end_headers()
            return
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/html")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


class Canary(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as out:
            out.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body><article><p>A secret that only this machine may see.</p></article></body></html>")

    def log_message(self, *args):
        pass


servers = [http.server.ThreadingHTTPServer(("192.0.2.10", site_port), Site),
           http.server.ThreadingHTTPServer(("127.0.0.1", canary_port), Canary)]
for server in servers:
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("serving", flush=True)  # the starting shell waits for this line
threading.Event().wait()
