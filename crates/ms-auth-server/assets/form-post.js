// OAuth 2.0 Form Post Response Mode §2: send the authorization response on to the client as
// soon as the page has loaded. (The page's <noscript> button does it without JavaScript.)
window.addEventListener("load", function () {
  document.getElementById("form-post").submit();
});
