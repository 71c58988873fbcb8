"""The upload form of the import flow: checks size and type before anything is stored."""

from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.importing import MAX_FILE_BYTES, FileProblem, check_looks_like_text

ALLOWED_SUFFIXES = {".csv", ".txt", ".tsv"}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, GBK/GB18030 or Latin-1; comma, semicolon or tab separated."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB; split it into smaller files."),
                params={"limit": MAX_FILE_BYTES // (1024 * 1024)},
                code="too_big",
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."), code="empty")
        head = upload.read(65536)
        upload.seek(0)
        try:
            check_looks_like_text(head)
        except FileProblem as exc:
            raise forms.ValidationError(exc.message, code="not_csv") from exc
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(
                _("Choose a .csv file (the name ends in .csv)."), code="suffix"
            )
        return upload
