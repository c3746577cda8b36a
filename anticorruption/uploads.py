"""An uploaded file waiting between its preview and its apply.

It is kept in the session, under a random token and the uploader's id: the session
is stored in the database, so every web worker sees it, and it ends with the
sign-in. Only the latest upload of each kind is kept (sessions are saved on every
request, so they stay small). On apply the file is read and checked again from
scratch, so nothing the browser sends back is trusted.
"""

import base64
import secrets

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _


class UploadStash:
    def __init__(self, session_key: str, kept: int = 1):
        self.session_key, self.kept = session_key, kept

    def put(self, request, *, name: str, content: bytes) -> str:
        token = secrets.token_hex(16)
        uploads = request.session.get(self.session_key, {})
        uploads[token] = {"user": request.user.pk, "name": name, "at": timezone.now().isoformat(), "content": base64.b64encode(content).decode()}
        request.session[self.session_key] = dict(list(uploads.items())[-self.kept:])
        return token

    def get(self, request, token: str) -> dict:
        upload = request.session.get(self.session_key, {}).get(token)
        if upload is None or upload["user"] != request.user.pk:
            raise Http404(_("找不到這份上傳的檔案；可能已套用、已被較新的上傳取代或已逾時，請重新上傳。"))
        return upload

    @staticmethod
    def content(upload: dict) -> bytes:
        return base64.b64decode(upload["content"])

    def forget(self, request, token: str) -> None:
        uploads = request.session.get(self.session_key, {})
        uploads.pop(token, None)
        request.session[self.session_key] = uploads
