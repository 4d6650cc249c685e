// Boots GraphiQL against this service's /graphql, with a useful first document.
(function () {
  var defaultQuery = [
    "# Welcome to the after-sales API.",
    "# 1. Create a token:  aftersales tokens create --seller NAME",
    "# 2. Headers tab:     {\"Authorization\": \"Bearer <token>\"}",
    "# 3. Press the run button (or Ctrl-Enter).",
    "",
    "query PendingReturns {",
    "  afterSaleCounts(type: RETURN_AND_REFUND) { status count }",
    "  afterSales(type: RETURN_AND_REFUND, status: PENDING_REQUEST, first: 10) {",
    "    totalCount",
    "    edges {",
    "      node {",
    "        id returnId orderId status returnStatus",
    "        refundRequested { amount currency }",
    "        sellerResponseDeadline",
    "        availableActions",
    "        items { sku productName quantity }",
    "      }",
    "    }",
    "    pageInfo { hasNextPage endCursor }",
    "  }",
    "}",
    "",
    "mutation AcceptReturn($id: ID!) {",
    "  acceptReturn(input: {id: $id}) {",
    "    afterSale { id status returnStatus }",
    "    userErrors { code field message }",
    "  }",
    "}",
    "",
  ].join("\n");
  // GraphiQL keeps tabs and query history in localStorage, with the headers of each. The bearer
  // token is a credential: this storage keeps queries and variables across reloads, never headers.
  function withoutHeaders(value) {
    try {
      return JSON.stringify(JSON.parse(value), function (key, v) {
        return key === "headers" ? null : v;
      });
    } catch (e) {
      return value; // not JSON (the query text itself)
    }
  }
  var storage = {
    getItem: function (key) { return window.localStorage.getItem(key); },
    removeItem: function (key) { window.localStorage.removeItem(key); },
    clear: function () { window.localStorage.clear(); },
    get length() { return window.localStorage.length; },
    setItem: function (key, value) {
      if (/headers$/i.test(key)) return;
      window.localStorage.setItem(key, withoutHeaders(value));
    },
  };
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultQuery: defaultQuery,
      defaultHeaders: '{\n  "Authorization": "Bearer <paste your token here>"\n}',
      defaultVariables: '{\n  "id": "<an id from PendingReturns>"\n}',
      defaultEditorToolsVisibility: "headers",
      // The token stays in this page: it is not written to the browser's storage.
      shouldPersistHeaders: false,
    })
  );
})();
