"""moto's S3 application alone, on a loopback port: ``python tests/s3_endpoint.py PORT``.

An S3 endpoint, as MinIO or AWS offers one. ``python -m moto.server`` serves every AWS service at one
address and guesses which one each request is for; for a request without an ``Authorization`` header,
which is every presigned one, it reads the whole body to guess, under a lock all requests share. Real S3
servers have no such step, so the tests and benchmarks run the S3 application by itself.
"""

import sys

from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), create_backend_app("s3"), threaded=True, request_handler=MotoRequestHandler)
