from django.urls import path

from huxiao.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.two_factor_view, name="two_factor"),
    path("login/enrol/", views.two_factor_enrol_view, name="two_factor_enrol"),
    path("logout/", views.logout_view, name="logout"),
]
