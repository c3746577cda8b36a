"""Private file storage: a folder of MEDIA_ROOT that no web server serves.

Files leave only through views that check who may have them. The folder follows
MEDIA_ROOT when a test or a deployment changes it (FileSystemStorage drops these
cached values on setting_changed). Owner read/write only: the web server's user, if it
differs, cannot read them either.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


@deconstructible
class PrivateStorage(FileSystemStorage):
    def __init__(self, folder: str, download_view: str):
        self.folder, self.download_view = folder, download_view
        super().__init__(file_permissions_mode=0o640, directory_permissions_mode=0o750)

    @cached_property
    def base_location(self):
        return os.path.join(settings.MEDIA_ROOT, self.folder)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError(f"{self.folder} files have no public URL; link to {self.download_view} instead.")
