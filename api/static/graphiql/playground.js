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
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: '{\n  "Authorization": "Bearer <paste your token here>"\n}',
      defaultVariables: '{\n  "id": "1"\n}',
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: true,
    })
  );
})();
