"""Two-factor authentication pages: set up a TOTP authenticator, or verify a code."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .security import safe_next


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("Enter the 6-digit code.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    return safe_next(request, "/")


def two_factor(request):
    """Verify a code of the user's confirmed authenticator, or set one up first."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device = TOTPDevice.objects.filter(
            user=user, confirmed=False
        ).first() or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                messages.success(request, _("Two-factor authentication is on for your account."))
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "token", _("That code is not valid. Check your device's clock and try again.")
        )
    context = {"form": form, "setting_up": setting_up, "next": _next_url(request)}
    if setting_up:
        context["secret"] = device.bin_key.hex()
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["config_url"] = device.config_url
    return render(request, "registration/two_factor.html", context)
