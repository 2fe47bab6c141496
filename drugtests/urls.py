app_name = "drugtests"

urlpatterns: list = []
