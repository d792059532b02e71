"""moto's server, answering one request at a time.

moto's own server handles requests on many threads and then loses
conditional writes (two concurrent conditional decrements can both succeed),
which would make every concurrency test against it meaningless. This wraps
moto's WSGI application in one lock: each request runs alone, and its
response is fully materialised before the lock is released.

It also answers GET /kontor/sent-mail with the e-mails SES has accepted
(source, subject, body, destinations), because moto's own /moto-api/data.json
fails as soon as a Lambda function exists without Docker.

Usage: python moto_serial.py PORT   (listens on 127.0.0.1 only)
"""

import json

import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def sent_mail():
    from moto.ses.models import ses_backends

    return [
        {"source": m.source, "subject": m.subject, "body": m.body, "destinations": m.destinations}
        for regions in ses_backends.values()
        for backend in regions.values()
        for m in backend.sent_messages
        if hasattr(m, "subject")
    ]


def serial(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        if environ.get("PATH_INFO") == "/kontor/sent-mail":
            with lock:
                body = json.dumps(sent_mail()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with lock:
            captured = {}

            def capture(status, headers, exc_info=None):
                captured["status"] = status
                captured["headers"] = headers
                return lambda data: body.append(data)

            body = []
            result = app(environ, capture)
            try:
                body.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        start_response(captured["status"], captured["headers"])
        return body

    return handle


def main():
    port = int(sys.argv[1])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", port, serial(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
