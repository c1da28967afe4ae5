// The login form: the token goes to POST /login, which checks it as the gRPC servers do and sets
// the session cookie; then back to the page asked for.
import { pageAfterLogin } from './next.js';

const form = document.getElementById('login');
const message = document.getElementById('login-message');

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = document.getElementById('token').value;
  const res = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    message.hidden = false;
    message.className = 'notice error';
    message.textContent = `Not logged in: ${body.message ?? `HTTP ${res.status}`}.`;
    return;
  }
  location.assign(pageAfterLogin(new URLSearchParams(location.search).get('next'), location.origin));
});
