#!/usr/bin/env python3
"""A stand-in shipping API for workflows/shipping_label.yml (standard library only).

    python3 workflows/tools/shipping_api.py [PORT]     # default 8088, on 127.0.0.1

GET /health                   200 {"ok": true}
POST /shipments               503 with Retry-After: 1 on every first try for an
                              Idempotency-Key, then 201 {"id": "shp_<order_id>", ...}
GET /shipments/ID/label       200 {"id": ID, "tracking": "1Z<order_id>", "label_url": ...}
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen_keys = set()


class Api(BaseHTTPRequestHandler):
    def reply(self, status, doc, headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts == ["health"]:
            self.reply(200, {"ok": True})
        elif len(parts) == 3 and parts[0] == "shipments" and parts[2] == "label":
            order = parts[1].removeprefix("shp_")
            self.reply(200, {"id": parts[1], "tracking": f"1Z{order}",
                             "label_url": f"http://127.0.0.1/labels/{parts[1]}.pdf"})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/shipments":
            self.reply(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            doc = json.loads(self.rfile.read(length) or b"null")
            order = int(doc["order_id"])
        except (ValueError, KeyError, TypeError):
            self.reply(422, {"error": "order_id (an integer) is required"})
            return
        key = self.headers.get("Idempotency-Key") or str(order)
        if key not in seen_keys:
            seen_keys.add(key)
            self.reply(503, {"error": "busy, try again"}, [("Retry-After", "1")])
            return
        self.reply(201, {"id": f"shp_{order}", "order_id": order, "service": doc.get("service")})

    def log_message(self, fmt, *args):
        sys.stderr.write("shipping_api: " + (fmt % args) + "\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8088
    server = ThreadingHTTPServer(("127.0.0.1", port), Api)
    print(f"shipping_api listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
