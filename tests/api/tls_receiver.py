#!/usr/bin/env python3
"""An HTTPS notification receiver for the tests: python3 tls_receiver.py CERT KEY OUT
Listens on a free loopback port (printed on the first line of stdout), answers every POST with
204 and appends one JSON line {"path", "body"} per request to OUT."""
import http.server
import json
import ssl
import sys

cert, key, out = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path, "body": body.decode()}) + "\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
