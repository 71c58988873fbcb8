"""The page where users create and revoke their own API tokens."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import ApiTokenForm
from .models import ApiToken


def _render(request, form, new_token: str = ""):
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(
        request,
        "crm/api_tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "now": timezone.now()},
    )


@require_http_methods(["GET", "POST"])
def token_list(request):
    """Lists the user's tokens; a POST creates one and shows its text once."""
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            _token, full = ApiToken.issue(
                user=request.user,
                name=form.cleaned_data["name"],
                created_by=request.user,
                expires_at=form.expires_at(),
            )
            return _render(request, ApiTokenForm(), new_token=full)
        return _render(request, form)
    return _render(request, ApiTokenForm())


@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api_token_list")
