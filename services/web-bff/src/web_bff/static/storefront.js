// The storefront: one page over the BFF's JSON API (/api/...). It keeps the basket in localStorage and the
// tokens in sessionStorage; everything it shows comes from the BFF. Text is set with textContent only,
// never as HTML, so nothing a service answers can become markup.

const page = document.getElementById("page");
const notice = document.getElementById("notice");

const store = {
  get basket() { return JSON.parse(localStorage.getItem("basket") || "[]"); },
  set basket(lines) { localStorage.setItem("basket", JSON.stringify(lines)); showBasketCount(); },
  get tokens() { return JSON.parse(sessionStorage.getItem("tokens") || "null"); },
  set tokens(tokens) {
    if (tokens) sessionStorage.setItem("tokens", JSON.stringify(tokens));
    else sessionStorage.removeItem("tokens");
    document.getElementById("sign-in-link").textContent = tokens ? "Sign out" : "Sign in";
  },
};

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    element.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  }
  return element;
}

const money = (m) => m ? new Intl.NumberFormat("en-GB", { style: "currency", currency: m.currency }).format(m.amount_minor / 100) : "–";
const when = (iso) => new Date(iso).toLocaleString();
const say = (text) => { notice.hidden = !text; notice.textContent = text || ""; };
const show = (...children) => page.replaceChildren(...children);

async function api(path, { method = "GET", body, headers = {}, retried = false } = {}) {
  const tokens = store.tokens;
  const sent = { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) };
  if (tokens) sent.Authorization = `Bearer ${tokens.access_token}`;
  const response = await fetch(`/api${path}`, { method, headers: sent, body: body && JSON.stringify(body) });
  if (response.status === 401 && tokens?.refresh_token && !retried) {
    const renewed = await fetch("/api/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
    store.tokens = renewed.ok ? await renewed.json() : null;
    if (renewed.ok) return api(path, { method, body, headers, retried: true });
  }
  const answer = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(answer.detail || answer.title), { status: response.status, problem: answer });
  return answer;
}

function showBasketCount() {
  const count = store.basket.reduce((sum, line) => sum + line.quantity, 0);
  document.getElementById("basket-count").textContent = count ? `(${count})` : "";
}

function addToBasket(sku) {
  const lines = store.basket;
  const line = lines.find((l) => l.sku === sku);
  if (line) line.quantity = Math.min(99, line.quantity + 1); else lines.push({ sku, quantity: 1 });
  store.basket = lines;
  say("Added to your basket.");
}

function unavailableNote(parts) {
  return parts.map((p) => h("p", { class: "unavailable" }, `Shown without ${p.service}: ${p.reason}.`));
}

async function shop(params = new URLSearchParams()) {
  const found = await api(`/browse?${params}`);
  const search = h("form", { onsubmit: (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    shop(new URLSearchParams([...form].filter(([, value]) => value)));
  } }, h("input", { name: "q", placeholder: "Title or artist", value: params.get("q") || "" }),
  h("input", { name: "genre", placeholder: "Genre", value: params.get("genre") || "" }), h("button", {}, "Search"));
  const cards = found.items.map((album) => h("div", { class: "card" },
    h("h3", {}, album.title), h("div", {}, album.artist), h("div", { class: "muted" }, `${album.genre}, ${album.released}`),
    h("p", {}, money(album.price), " · ", h("span", { class: album.availability }, album.availability === "low_stock"
      ? `only ${album.units_left} left` : album.availability.replaceAll("_", " "))),
    h("button", { onclick: () => addToBasket(album.sku), ...(album.availability === "out_of_stock" ? { disabled: "" } : {}) }, "Add to basket")));
  const more = found.next_page ? h("button", { onclick: () => {
    params.set("page", found.next_page); shop(params);
  } }, "Next page") : "";
  show(search, ...unavailableNote(found.unavailable), h("div", { class: "grid" }, cards), more);
}

async function basket() {
  const lines = store.basket;
  if (!lines.length) return show(h("p", {}, "Your basket is empty."));
  const priced = await api("/basket/price", { method: "POST", body: { lines } });
  if (priced.unknown_skus.length) store.basket = lines.filter((l) => !priced.unknown_skus.includes(l.sku));
  const rows = priced.lines.map((line) => h("tr", {}, h("td", {}, line.title), h("td", {}, line.artist),
    h("td", {}, line.quantity), h("td", {}, money(line.total)), h("td", { class: line.availability }, line.availability.replaceAll("_", " "))));
  show(h("h2", {}, "Basket"), ...unavailableNote(priced.unavailable),
    h("table", {}, h("tbody", {}, rows)), h("p", {}, h("strong", {}, "Total: ", money(priced.total))),
    store.tokens ? await checkoutForm(priced) : h("p", {}, h("a", { href: "#/sign-in" }, "Sign in"), " to check out."));
}

async function checkoutForm(priced) {
  const account = await api("/account");
  if (account.addresses.status !== "available") return h("p", { class: "unavailable" }, account.addresses.reason);
  if (!account.addresses.data.length) return h("p", {}, h("a", { href: "#/account" }, "Add a delivery address"), " to check out.");
  // One key per checkout attempt, kept until it succeeds: a retry after a lost answer places nothing twice.
  const key = sessionStorage.getItem("checkout-key") || crypto.randomUUID();
  sessionStorage.setItem("checkout-key", key);
  return h("form", { onsubmit: async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const order = await api("/checkout", { method: "POST", headers: { "Idempotency-Key": key }, body: {
      lines: priced.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      delivery_address_id: form.get("address"), card_number: form.get("card").replaceAll(" ", ""),
    } });
    sessionStorage.removeItem("checkout-key");
    store.basket = [];
    location.hash = `#/orders/${order.id}`;
  } }, h("select", { name: "address" }, account.addresses.data.map((a) => h("option", { value: a.id }, `${a.name}, ${a.lines[0]}, ${a.city}`))),
  h("input", { name: "card", placeholder: "Card number", inputmode: "numeric", autocomplete: "cc-number", required: "" }),
  h("button", {}, "Place order"));
}

function formOf(fields, button, submit) {
  return h("form", { onsubmit: async (event) => { event.preventDefault(); await submit(Object.fromEntries(new FormData(event.target))); } },
    fields.map(([name, label, type = "text"]) => h("input", { name, placeholder: label, type, required: "" })), h("button", {}, button));
}

function signIn() {
  if (store.tokens) { store.tokens = null; location.hash = "#/"; return; }
  show(h("h2", {}, "Sign in"), formOf([["email", "Email", "email"], ["password", "Password", "password"]], "Sign in", async (form) => {
    store.tokens = await api("/sign-in", { method: "POST", body: form });
    location.hash = "#/account";
  }), h("h2", {}, "New here?"), formOf([["email", "Email", "email"], ["password", "Password (12 characters or more)", "password"]], "Register", async (form) => {
    await api("/register", { method: "POST", body: form });
    store.tokens = await api("/sign-in", { method: "POST", body: form });
    location.hash = "#/account";
  }));
}

async function account() {
  const found = await api("/account");
  const section = (title, part, render) => [h("h2", {}, title), part.status === "available" ? render(part.data) : h("p", { class: "unavailable" }, part.reason)];
  show(
    ...section("Profile", found.profile, (p) => p ? h("p", {}, `${p.display_name} <${p.email}>`)
      : formOf([["display_name", "Your name"], ["email", "Email", "email"]], "Save", async (form) => {
        await api("/account/profile", { method: "PUT", body: form }); account();
      })),
    ...section("Delivery addresses", found.addresses, (list) => h("div", {}, list.map((a) => h("p", {}, `${a.name}, ${a.lines.join(", ")}, ${a.city} ${a.postcode}, ${a.country}`)),
      formOf([["name", "Name"], ["line", "Street"], ["city", "City"], ["postcode", "Postcode"], ["country", "Country (e.g. GB)"]], "Add address", async (form) => {
        await api("/account/addresses", { method: "POST", body: { name: form.name, lines: [form.line], city: form.city, postcode: form.postcode, country: form.country } });
        account();
      }))),
    ...section("Loyalty points", found.points, (p) => h("p", {}, `${p.balance} points`)),
    ...section("Recent orders", found.recent_orders, orderTable),
  );
}

function orderTable(orders) {
  if (!orders.length) return h("p", {}, "No orders yet.");
  return h("table", {}, h("tbody", {}, orders.map((o) => h("tr", {}, h("td", {}, h("a", { href: `#/orders/${o.id}` }, when(o.placed_at))),
    h("td", {}, o.titles.join(", ")), h("td", {}, money(o.total)), h("td", {}, o.status_label)))));
}

async function orders() {
  const found = await api("/orders");
  show(h("h2", {}, "Your orders"), orderTable(found.items));
}

async function order(id) {
  const o = await api(`/orders/${id}`);
  const payment = o.payment.status === "available"
    ? (o.payment.data ? `Payment: ${o.payment.data.status}, card ending ${o.payment.data.card_last4}` : "Payment: not asked for yet")
    : `Payment: ${o.payment.reason}`;
  show(h("h2", {}, `Order of ${when(o.placed_at)}: ${o.status_label}`),
    h("ol", { class: "steps" }, o.progress.map((s) => h("li", { class: s.reached ? "reached" : "" }, s.label))),
    h("table", {}, h("tbody", {}, o.lines.map((l) => h("tr", {}, h("td", {}, l.title), h("td", {}, l.quantity), h("td", {}, money(l.total)))))),
    h("p", {}, h("strong", {}, "Total: ", money(o.total))), h("p", {}, payment),
    h("ul", {}, o.history.map((e) => h("li", {}, `${when(e.at)}: ${e.status_label}${e.reason ? ` (${e.reason})` : ""}`))),
    o.can_cancel ? h("button", { onclick: async () => { await api(`/orders/${id}/cancel`, { method: "POST" }); order(id); } }, "Cancel order") : "");
}

async function route() {
  say("");
  const [, view, id] = location.hash.split("/");
  try {
    if (view === "basket") await basket();
    else if (view === "sign-in") signIn();
    else if (view === "account") await account();
    else if (view === "orders" && id) await order(id);
    else if (view === "orders") await orders();
    else await shop();
  } catch (error) {
    if (error.status === 401) { store.tokens = null; location.hash = "#/sign-in"; }
    say(error.message);
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => say(event.reason.message));
store.tokens = store.tokens;
showBasketCount();
route();
