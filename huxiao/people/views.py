from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def class_list(request):
    return HttpResponse("todo")


@login_required
def staff_list(request):
    return HttpResponse("todo")
