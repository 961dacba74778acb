#!/usr/bin/env python3
"""A stand-in for the Hugging Face hub on the loopback interface, for tests only.

Serves GET /{org}/{name}/resolve/{revision}/{file} from ROOT/{org}/{name}/{file} with HTTP Range support
(206 + Content-Range), 404 for missing files, and 401 for any repository whose name starts with "gated"
unless the request carries "Authorization: Bearer good-token". Repositories whose name starts with
"norange" ignore Range headers and send whole files with 200, as some mirrors do. Binds 127.0.0.1 on a free port and
prints the port on its first line of stdout.

usage: hub_server.py ROOT
"""
import http.server
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1]).resolve()
PATH = re.compile(r"^/([\w.-]+)/([\w.-]+)/resolve/([\w.-]+)/([\w.-]+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        m = PATH.match(self.path)
        if not m:
            return self.send_error(404)
        org, name, _revision, file = m.groups()
        if name.startswith("gated") and self.headers.get("Authorization") != "Bearer good-token":
            return self.send_error(401)
        path = ROOT / org / name / file
        if not path.is_file():
            return self.send_error(404)
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng and not name.startswith("norange"):
            first, last = re.match(r"bytes=(\d+)-(\d*)", rng).groups()
            first, last = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
            if first >= len(data):
                return self.send_error(416)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
            data = data[first:last + 1]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
