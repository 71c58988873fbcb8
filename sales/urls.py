from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="index"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
]

# Import and export of orders and products (sales/import_urls.py).
from .import_urls import urlpatterns as import_urlpatterns  # noqa: E402

urlpatterns += import_urlpatterns
