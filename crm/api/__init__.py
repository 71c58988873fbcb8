"""The REST API's shared machinery: tokens, authentication, role permissions, throttles,
pagination, upsert and bulk endpoints, webhooks, and the router behind /api/v1/.

crm is the lowest layer and imports no app: each app registers its viewsets and webhook
events here from its AppConfig.ready() (see `registry`), and keeps its serializers and
viewsets in `<app>/api.py`.
"""
