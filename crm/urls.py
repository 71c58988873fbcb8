from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from ops import views as ops_views

from . import account_views, views
from .api import views as api_views

admin.site.site_header = _("CRM administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("__bench__/constant/", views.bench_constant, name="bench_constant"),
    path("favicon.ico", views.favicon),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("history/<str:label>/<int:pk>/", views.object_history, name="object_history"),
    path("accounts/two-factor/", account_views.two_factor, name="two_factor"),
    path("accounts/tokens/", api_views.token_list, name="api_token_list"),
    path("accounts/tokens/<int:pk>/revoke/", api_views.token_revoke, name="api_token_revoke"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("customers/", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("analytics/", include("analytics.urls")),
    path("marketing/", include("marketing.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("crm.api.urls")),
]

handler403 = "crm.errors.permission_denied"
handler404 = "crm.errors.page_not_found"
handler500 = "crm.errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
