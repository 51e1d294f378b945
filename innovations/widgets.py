from django import forms


class LocationPicker(forms.NumberInput):
    """The longitude input, followed by a map on which editors place the case.

    Clicking the map or dragging its marker fills the latitude and longitude fields;
    typing in either field moves the marker. Plain Leaflet from django-leaflet's static
    files, so no GDAL is needed.
    """

    template_name = "innovations/widgets/location_picker.html"

    def __init__(self, latitude="latitude", attrs=None, csp_nonce=None):
        self.latitude = latitude
        # The request's Content-Security-Policy nonce, for django-leaflet's inline
        # script (a widget's template does not see the request).
        self.csp_nonce = csp_nonce
        super().__init__(attrs)

    class Media:
        css = {"all": ["leaflet/leaflet.css", "css/location_picker.css"]}
        js = ["leaflet/leaflet.js", "leaflet/leaflet.extras.js", "js/location_picker.js"]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["latitude"] = self.latitude
        context["widget"]["csp_nonce"] = self.csp_nonce
        return context
