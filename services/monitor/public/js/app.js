// The dashboard's one document: draws the page its path names, and the user's name with a way
// to log out when there is a login.
import { getSession, logout } from './api.js';
import { h, fill } from './ui.js';

const ROUTES = [
  [/^\/$/, 'overview', () => import('./pages/overview.js')],
  [/^\/jobs$/, 'jobs', () => import('./pages/jobs.js')],
  [/^\/jobs\/([^/]+)$/, 'jobs', () => import('./pages/job.js')],
  [/^\/stocks$/, 'stocks', () => import('./pages/stocks.js')],
  [/^\/stocks\/([^/]+)$/, 'stocks', () => import('./pages/stock-run.js')],
  [/^\/stocks\/([^/]+)\/screener$/, 'stocks', () => import('./pages/screener.js')],
  [/^\/orders$/, 'orders', () => import('./pages/orders.js')],
  [/^\/groups$/, 'groups', () => import('./pages/groups.js')],
  [/^\/groups\/([^/]+)$/, 'groups', () => import('./pages/group.js')],
  [/^\/dead-letters$/, 'dead-letters', () => import('./pages/dead-letters.js')],
];

async function main() {
  const session = await getSession();
  const user = document.getElementById('user');
  if (session.auth) {
    fill(
      user,
      h('span', { title: `scopes: ${session.scopes.join(', ')}` }, session.user),
      ' ',
      h('button', { class: 'link', id: 'logout', onclick: async () => (await logout(), location.assign('/login')) }, 'log out'),
    );
  }
  const path = location.pathname;
  const route = ROUTES.find(([re]) => re.test(path));
  const main = document.getElementById('main');
  if (!route) return fill(main, h('p', {}, 'No such page.'));
  const [re, name, load] = route;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.dataset.page === name);
  const args = re.exec(path).slice(1).map(decodeURIComponent);
  const mod = await load();
  await mod.render(main, ...args);
}

void main();
