// Where the login page sends the browser after a login: only to a page of the dashboard itself,
// whatever `next` the link to the login page carried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageAfterLogin } from '../public/js/next.js';

const ORIGIN = 'http://127.0.0.1:8080';

test('after a login the browser goes to the page it asked for, with its query and fragment', () => {
  assert.equal(pageAfterLogin('/jobs', ORIGIN), '/jobs');
  assert.equal(pageAfterLogin('/jobs?status=FAILED#top', ORIGIN), '/jobs?status=FAILED#top');
  assert.equal(pageAfterLogin(null, ORIGIN), '/');
  assert.equal(pageAfterLogin('', ORIGIN), '/');
});

test('a next that names another site sends the browser to the overview instead', () => {
  // What URLSearchParams gives for next=/\evil.example, next=/%09/evil.example, next=//evil.example …
  for (const next of ['/\\evil.example', '/\t/evil.example', '/\n/evil.example', '//evil.example', '\\\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/\\/evil.example']) {
    assert.equal(pageAfterLogin(next, ORIGIN), '/', JSON.stringify(next));
    assert.equal(new URL(pageAfterLogin(next, ORIGIN), ORIGIN).origin, ORIGIN, JSON.stringify(next));
  }
});
