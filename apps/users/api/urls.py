from django.urls import path

from apps.users.api import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("logout-everywhere/", views.LogoutEverywhereView.as_view(), name="auth-logout-everywhere"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("csrf/", views.CsrfView.as_view(), name="auth-csrf"),
    path("token/", views.TokenObtainView.as_view(), name="auth-token"),
]
