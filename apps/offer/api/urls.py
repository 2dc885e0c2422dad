from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.offer.api.views import BalanceView, ClockEventViewSet, ClockInView, ClockOutView, LedgerEntryViewSet

router = SimpleRouter()
router.register("hours-ledger/entries", LedgerEntryViewSet, basename="ledger-entry")
router.register("clock/events", ClockEventViewSet, basename="clock-event")

urlpatterns = [
    path("hours-ledger/balances/", BalanceView.as_view(), name="ledger-balances"),
    path("clock/in/", ClockInView.as_view(), name="clock-in"),
    path("clock/out/", ClockOutView.as_view(), name="clock-out"),
    *router.urls,
]
