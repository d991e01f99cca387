"""The login flows simple-salesforce uses, answered by the sandbox.

* ``POST /services/oauth2/token``: OAuth 2.0 ``password`` (consumer key/secret + username +
  password), JWT bearer (``urn:ietf:params:oauth:grant-type:jwt-bearer``; RS256 signature
  checked when the credentials carry a public key) and ``client_credentials`` (HTTP Basic).
  Success: ``{"access_token", "instance_url", "id", "token_type", "issued_at", "signature",
  "scope"}``; failure: 400 ``{"error": "invalid_grant", "error_description": ...}``.
* ``POST /services/Soap/u/{version}``: SOAP ``login`` (username + password + security
  token); success returns ``sessionId`` and ``serverUrl``, failure a SOAP fault with
  ``sf:exceptionCode`` INVALID_LOGIN (HTTP 500), as the SDK expects.

Both hand out the sandbox's current Salesforce token; the instance URL is built from the
request's Host header, so the SDK's later calls come back to the same loopback server.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import jwt

from sandbox.server import Request, Response

log = logging.getLogger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class SalesforceCredentials:
    """What the emulated org accepts at login (defaults are the sandbox's demo values)."""

    username: str = "integration@sandbox.example"
    password: str = "sandbox-password"
    security_token: str = "SANDBOXSECURITYTOKEN"
    consumer_key: str = "sandbox-consumer-key"
    consumer_secret: str = "sandbox-consumer-secret"
    jwt_public_key_pem: str | None = None
    org_id: str = "00D000000000001AAA"
    user_id: str = "005000000000000AAA"


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json({"error": error, "error_description": description}, status=status)


def _base_url(req: Request) -> str:
    host = req.headers.get("Host", "127.0.0.1")
    return f"http://{host}"


class LoginHandlers:
    """Handlers for the OAuth token endpoint and SOAP login."""

    def __init__(self, credentials: SalesforceCredentials, token: Callable[[], str]) -> None:
        self.credentials = credentials
        self._token = token

    def token(self, req: Request, _m: Any) -> Response:
        """``POST /services/oauth2/token``."""
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8"), True).items()}
        grant = form.get("grant_type", "")
        creds = self.credentials
        if grant == "password":
            if form.get("client_id") != creds.consumer_key:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if form.get("client_secret") != creds.consumer_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            password = form.get("password", "")
            if form.get("username") != creds.username or password not in (
                creds.password,
                creds.password + creds.security_token,
            ):
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == JWT_GRANT:
            problem = self._check_assertion(form.get("assertion", ""))
            if problem is not None:
                return _oauth_error("invalid_grant", problem)
        elif grant == "client_credentials":
            auth = req.headers.get("Authorization", "")
            expected = f"{creds.consumer_key}:{creds.consumer_secret}".encode()
            if auth != "Basic " + base64.b64encode(expected).decode():
                return _oauth_error("invalid_client", "invalid client credentials")
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        base = _base_url(req)
        issued = str(int(time.time() * 1000))
        return Response.json(
            {
                "access_token": self._token(),
                "scope": "api",
                "instance_url": base,
                "id": f"{base}/id/{creds.org_id}/{creds.user_id}",
                "token_type": "Bearer",
                "issued_at": issued,
                "signature": base64.b64encode(issued.encode()).decode(),
            }
        )

    def _check_assertion(self, assertion: str) -> str | None:
        creds = self.credentials
        try:
            if creds.jwt_public_key_pem is not None:
                claims = jwt.decode(
                    assertion,
                    creds.jwt_public_key_pem,
                    algorithms=["RS256"],
                    options={"verify_aud": False},
                )
            else:
                claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.ExpiredSignatureError:
            return "expired authorization code"
        except jwt.PyJWTError:
            return "invalid assertion"
        if claims.get("iss") != creds.consumer_key:
            return "invalid client credentials"
        if claims.get("sub") != creds.username:
            return "user hasn't approved this consumer"
        aud = str(claims.get("aud", ""))
        if not (aud.startswith("https://") and aud.endswith(".salesforce.com")):
            return "audience is invalid"
        if float(claims.get("exp", 0)) < time.time():
            return "expired authorization code"
        return None

    def soap_login(self, req: Request, m: Any) -> Response:
        """``POST /services/Soap/u/{version}``."""
        creds = self.credentials
        username = password = None
        try:
            root = ElementTree.fromstring(req.body)
        except ElementTree.ParseError:
            return _soap_fault(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        for el in root.iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "username":
                username = el.text or ""
            elif tag == "password":
                password = el.text or ""
        if username != creds.username or password != creds.password + creds.security_token:
            log.info("sandbox SOAP login refused for a wrong username or password")
            return _soap_fault(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        version = m["version"]
        base = _base_url(req)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{creds.org_id}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{creds.org_id}</serverUrl>"
            f"<sessionId>{escape(str(self._token()))}</sessionId>"
            f"<userId>{creds.user_id}</userId>"
            f"<userInfo><organizationId>{creds.org_id}</organizationId>"
            f"<userName>{escape(creds.username)}</userName></userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response.text(body, content_type="text/xml; charset=utf-8")


def _soap_fault(code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response.text(body, status=500, content_type="text/xml; charset=utf-8")
