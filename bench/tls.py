"""A throwaway certificate authority and a certificate for 127.0.0.1, so simulators
can serve HTTPS as every real broker does (``trustme``)."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TLSFiles:
    ca: str
    cert: str
    key: str

    def context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this authority."""
        return ssl.create_default_context(cafile=self.ca)


def make_tls_files() -> TLSFiles:
    directory = Path(tempfile.mkdtemp(prefix="openalgo-bench-tls-"))
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    files = TLSFiles(ca=str(directory / "ca.pem"), cert=str(directory / "cert.pem"),
                     key=str(directory / "key.pem"))
    ca.cert_pem.write_to_path(files.ca)
    issued.cert_chain_pems[0].write_to_path(files.cert)
    issued.private_key_pem.write_to_path(files.key)
    return files
