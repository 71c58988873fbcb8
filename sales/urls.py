from django.urls import path

from . import views

app_name = "sales"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="index"),
    path("deals/", views.DealListView.as_view(), name="deal_list"),
    path("deals/board/", views.DealBoardView.as_view(), name="deal_board"),
    path("deals/new/", views.DealCreateView.as_view(), name="deal_create"),
    path("deals/<int:pk>/", views.DealDetailView.as_view(), name="deal_detail"),
    path("deals/<int:pk>/edit/", views.DealUpdateView.as_view(), name="deal_update"),
    path("deals/<int:pk>/move/", views.DealMoveView.as_view(), name="deal_move"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/new/", views.OrderCreateView.as_view(), name="order_create"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("orders/<int:pk>/status/", views.OrderStatusView.as_view(), name="order_status"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/new/", views.TaskCreateView.as_view(), name="task_create"),
    path("tasks/<int:pk>/done/", views.TaskDoneView.as_view(), name="task_done"),
    path("notifications/read/", views.NotificationsReadView.as_view(), name="notification_read"),
    path("reports/", views.ReportsView.as_view(), name="report_index"),
    path("reports/<slug:key>.csv", views.ReportCsvView.as_view(), name="report_csv"),
]

# Import and export of orders and products (sales/import_urls.py).
from .import_urls import urlpatterns as import_urlpatterns  # noqa: E402

urlpatterns += import_urlpatterns
