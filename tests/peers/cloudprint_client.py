#!/usr/bin/env python3
"""A Cloud Print API client written from the Python samples of seed 000, in Python 3
with the standard library only (urllib, no requests): its own multipart encoding, the
GoogleLogin auth header and X-CloudPrint-Proxy of the samples' GetUrl, anonymous
registration, /list, /search, /jobs, /fetch, /submit and /delete; then what came after the
samples: a connector's robot account (/createrobot, its code exchanged with the client id in the
form, no HTTP Basic), /share and /unshare, the legacy ticketUrl and /fcm/subscribe.

The samples ran against Google; here a scenario runs against the project's emulator:

    python3 cloudprint_client.py --base http://127.0.0.1:8632/cloudprint \
        --token-url http://127.0.0.1:8632/o/oauth2/token --email you@example.com \
        --pdf doc.pdf --png page.png

and prints one JSON object saying what each step saw.
"""

import argparse
import base64
import json
import mimetypes
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CRLF = b"\r\n"
CLIENT_NAME = "api-prober"          # the samples' X-CloudPrint-Proxy value
PROXY = "SelfRegProxy"              # the samples' proxy name for self-registration
OAUTH_CLIENT_ID = "python-sample-client"
CAPS = '{"version":"1.0","printer":{"supported_content_type":[{"content_type":"application/pdf"}]}}'
TIMEOUT = 10


def new_boundary():
    # mimetools.choose_boundary() is gone in Python 3; any token that cannot occur in the data will do.
    return "----cloudprint" + secrets.token_hex(16)


def encode_multipart(fields, files, boundary, file_type="application/xml"):
    """Like the samples' EncodeMultiPart, but in bytes, so files may be binary."""
    lines = []
    for key, value in fields:
        lines.append(b"--" + boundary.encode())
        lines.append(('Content-Disposition: form-data; name="%s"' % key).encode())
        lines.append(b"")
        lines.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
    for key, filename, value in files:
        lines.append(b"--" + boundary.encode())
        lines.append(('Content-Disposition: form-data; name="%s"; filename="%s"' % (key, filename)).encode())
        lines.append(("Content-Type: %s" % file_type).encode())
        lines.append(b"")
        lines.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
    lines.append(b"--" + boundary.encode() + b"--")
    lines.append(b"")
    return CRLF.join(lines)


def get_url(url, token=None, data=None, boundary=None, anonymous=False):
    """The samples' GetUrl: GET, or POST multipart when there is data; the legacy auth header.

    An HTTP error answers its body, as the samples returned an error text instead of raising;
    unlike them it does not sleep a minute and retry: the emulator is not a flaky gateway.
    """
    request = urllib.request.Request(url)
    if not anonymous and token:
        request.add_header("Authorization", "GoogleLogin auth=%s" % token)
    request.add_header("X-CloudPrint-Proxy", CLIENT_NAME)
    if data is not None:
        request.data = data
        request.add_header("Content-Length", str(len(data)))
        request.add_header("Content-Type", "multipart/form-data;boundary=%s" % boundary)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.read().decode("utf-8", "replace")


def convert_json(text):
    """The samples' ConvertJson: the parsed answer plus a 'json' flag."""
    try:
        answer = json.loads(text)
        answer["json"] = True
    except ValueError as error:
        answer = {"json": False, "error": str(error)}
    return answer


def validate(response):
    """The samples' Validate, byte for byte in spirit: a text search for '"success": true'."""
    return response.find('"success": true') > 0


class CloudPrint:
    def __init__(self, base, token_url):
        self.base = base.rstrip("/")
        self.token_url = token_url
        self.token = None

    # Authentication. The samples used ClientLogin; the emulator's documented grant stands in for it.
    def sign_in(self, email):
        body = urllib.parse.urlencode({"grant_type": "urn:cloudprint-emulator:user", "email": email}).encode()
        request = urllib.request.Request(self.token_url, data=body)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            self.token = json.loads(response.read().decode())["access_token"]
        return self.token

    def multipart(self, path, fields, files=(), file_type="application/xml", anonymous=False):
        boundary = new_boundary()
        data = encode_multipart(fields, files, boundary, file_type)
        return get_url("%s/%s" % (self.base, path), self.token, data=data, boundary=boundary, anonymous=anonymous)

    def form(self, path, fields, token=None):
        """A urlencoded POST, as the Go connector sent /createrobot, /share and /unshare."""
        request = urllib.request.Request("%s/%s" % (self.base, path), data=urllib.parse.urlencode(fields).encode())
        request.add_header("Authorization", "GoogleLogin auth=%s" % (token or self.token))
        request.add_header("X-CloudPrint-Proxy", CLIENT_NAME)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, convert_json(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return error.code, convert_json(error.read().decode("utf-8", "replace"))

    def exchange_code(self, code, client_id):
        """The token endpoint with the client in the form (RFC 6749 2.3.1 allows it), never HTTP Basic."""
        body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                       "client_secret": "unused", "redirect_uri": "oob"}).encode()
        request = urllib.request.Request(self.token_url, data=body)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as error:
            return json.loads(error.read().decode("utf-8", "replace"))

    # Anonymous registration: RegisterAnonPrinter.
    def register_anon_printer(self, printer):
        return self.multipart("register", [("printer", printer), ("proxy", PROXY)],
                              [("capabilities", "capabilities", CAPS)], anonymous=True)

    # GetPrinters: /list with a proxy, otherwise /search.
    def get_printers(self, proxy=None):
        if proxy:
            response = get_url("%s/list?proxy=%s" % (self.base, urllib.parse.quote(proxy)), self.token)
        else:
            response = get_url("%s/search" % self.base, self.token)
        answer = convert_json(response)
        return {p["id"]: {"name": p["name"], "proxy": p["proxy"]} for p in answer.get("printers", [])}

    # Query: a printer's id by its name, through /search?q=.
    def query(self, printer):
        answer = convert_json(get_url("%s/search?q=%s" % (self.base, urllib.parse.quote(printer)), self.token))
        for p in answer.get("printers", []):
            if p["name"] == printer:
                return p["id"]
        return None

    def delete_printer(self, printerid):
        response = get_url("%s/delete?printerid=%s" % (self.base, urllib.parse.quote(printerid)), self.token)
        return validate(response)

    # GetJobs: /fetch for one printer, /jobs otherwise; job id -> printer id.
    def get_jobs(self, printerid=None):
        if printerid:
            response = get_url("%s/fetch?printerid=%s" % (self.base, urllib.parse.quote(printerid)), self.token)
        else:
            response = get_url("%s/jobs" % self.base, self.token)
        answer = convert_json(response)
        return {job["id"]: job["printerid"] for job in answer.get("jobs", [])}

    # SubmitJob: a PDF goes as a data: URL, a PNG or JPEG as a file part of its own type.
    def submit_job(self, printerid, jobtype, jobsrc):
        if jobtype == "pdf":
            with open(jobsrc, "rb") as f:
                file_type = mimetypes.guess_type(jobsrc)[0] or "application/octet-stream"
                fdata = ("data:%s;base64," % file_type).encode() + base64.b64encode(f.read())
        elif jobtype in ("png", "jpeg"):
            with open(jobsrc, "rb") as f:
                fdata = f.read()
        else:
            fdata = None
        title = "%s%s" % (time.strftime("%b%d%H%M", time.localtime()), jobsrc)
        content = {"pdf": fdata, "jpeg": jobsrc, "png": jobsrc}
        content_type = {"pdf": "dataUrl", "jpeg": "image/jpeg", "png": "image/png"}
        fields = [("printerid", printerid), ("title", title), ("content", content[jobtype]), ("contentType", content_type[jobtype])]
        files = [("capabilities", "capabilities", '{"capabilities":[]}')]
        if jobtype in ("pdf", "jpeg", "png"):
            files.append(("content", jobsrc, fdata))
            response = self.multipart("submit", fields, files, file_type=content_type[jobtype])
        else:
            response = self.multipart("submit", fields, files)
        return validate(response), convert_json(response)


def scenario(args):
    """SelfRegister from the samples, then the printer and job queries, then deletion."""
    cp = CloudPrint(args.base, args.token_url)
    seen = {}
    reg_text = cp.register_anon_printer(args.name)
    seen["register_valid"] = validate(reg_text)
    reg = convert_json(reg_text)
    printer_id = reg["printers"][0]["id"]
    seen["printer_id"] = printer_id
    seen["token_duration"] = reg["token_duration"]
    poll_url = reg["polling_url"] + OAUTH_CLIENT_ID
    seen["poll_before_claim"] = validate(get_url(poll_url, anonymous=True))

    # The manual step of the samples ("Go claim your printer"), done the way Chrome automated it.
    cp.sign_in(args.email)
    seen["claim_valid"] = validate(get_url(reg["automated_invite_url"], cp.token))
    poll = convert_json(get_url(poll_url, anonymous=True))
    seen["authorization_code"] = bool(poll.get("authorization_code"))
    seen["user_email"] = poll.get("user_email")

    seen["query_id"] = cp.query(args.name)
    seen["list"] = cp.get_printers(proxy=PROXY)
    seen["search"] = cp.get_printers()
    ok, pdf_job = cp.submit_job(printer_id, "pdf", args.pdf)
    seen["pdf_submit_valid"] = ok
    seen["pdf_job"] = pdf_job.get("job", {}).get("id")
    seen["pdf_message"] = pdf_job.get("message")
    ok, png_job = cp.submit_job(printer_id, "png", args.png)
    seen["png_submit_valid"] = ok
    seen["png_job"] = png_job.get("job", {}).get("id")
    seen["jobs"] = cp.get_jobs()
    seen["fetch"] = cp.get_jobs(printerid=printer_id)
    if args.keep:
        return seen
    seen["delete_valid"] = cp.delete_printer(printer_id)
    seen["search_after_delete"] = cp.get_printers()
    seen["delete_again_valid"] = cp.delete_printer(printer_id)
    return seen


def connector_scenario(args):
    """A connector: a robot account of the owner's, a printer it registers, shared with a friend."""
    owner = CloudPrint(args.base, args.token_url)
    owner.sign_in(args.email)
    seen = {}
    _, robot = owner.form("createrobot", {"oauth_client_id": OAUTH_CLIENT_ID, "proxy": PROXY})
    seen["robot_jid"] = robot.get("xmpp_jid")
    tokens = owner.exchange_code(robot.get("authorization_code", ""), OAUTH_CLIENT_ID)
    seen["robot_token_type"] = tokens.get("token_type")
    seen["robot_refresh"] = bool(tokens.get("refresh_token"))
    connector = CloudPrint(args.base, args.token_url)
    connector.token = tokens.get("access_token")
    # The same fields as the anonymous registration, but with the account's credentials.
    reg = convert_json(connector.multipart("register", [("printer", args.name), ("proxy", PROXY)],
                                           [("capabilities", "capabilities", CAPS)]))
    printer = reg["printers"][0]
    seen["registered_owner"] = printer["ownerId"]
    seen["registration_token"] = reg.get("registration_token")
    seen["connector_list"] = connector.get_printers(proxy=PROXY)

    friend = CloudPrint(args.base, args.token_url)
    friend.sign_in(args.friend)
    seen["friend_submit_before"] = friend.submit_job(printer["id"], "pdf", args.pdf)[1].get("errorCode")
    _, shared = owner.form("share", {"printerid": printer["id"], "scope": args.friend, "role": "USER", "skip_notification": "true"})
    seen["share_valid"] = shared.get("success")
    _, details = friend.form("printer", {"printerid": printer["id"]})
    seen["access"] = [[a["email"], a["role"]] for a in details["printers"][0]["access"]]
    ok, job = friend.submit_job(printer["id"], "pdf", args.pdf)
    seen["friend_submit_valid"] = ok
    seen["friend_jobs"] = friend.get_jobs()
    seen["friend_job"] = job.get("job", {}).get("id")
    # The job's legacy ticketUrl, read as a 1.x connector read it: flat keys.
    seen["legacy_ticket"] = convert_json(get_url(job["job"]["ticketUrl"], connector.token))
    _, unshared = owner.form("unshare", {"printerid": printer["id"], "scope": args.friend})
    seen["unshare_valid"] = unshared.get("success")
    seen["friend_submit_after"] = friend.submit_job(printer["id"], "pdf", args.pdf)[1].get("errorCode")
    seen["friend_search_after"] = friend.get_printers()
    status, fcm = connector.form("fcm/subscribe", {"client": OAUTH_CLIENT_ID, "proxy": PROXY})
    seen["fcm"] = [status, fcm.get("success"), fcm.get("message", "")]
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="Cloud Print base URL, e.g. http://127.0.0.1:8632/cloudprint")
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="SelfRegPrinterName")
    parser.add_argument("--pdf", required=True)
    parser.add_argument("--png", required=True)
    parser.add_argument("--keep", action="store_true", help="do not delete the printer at the end")
    parser.add_argument("--connector", action="store_true", help="run the connector scenario instead (createrobot, share, unshare)")
    parser.add_argument("--friend", default="friend@example.com", help="whom the connector scenario shares with")
    args = parser.parse_args()
    json.dump(connector_scenario(args) if args.connector else scenario(args), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
