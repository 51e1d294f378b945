from django import forms
from django.utils.translation import gettext_lazy as _


class ReturnForm(forms.Form):
    """The message an editor sends with cases returned for changes."""

    message = forms.CharField(
        label=_("Message to the submitter"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("Say what to change. It is emailed to the submitter and kept in the log."),
    )
