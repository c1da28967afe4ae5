-- Each symbol's quote, fundamentals and ratios per run, written once per (run id, symbol): a
-- task processed again (a redelivery, a replay) changes nothing. Amounts are in the listing
-- currency; ratios are null where their definition gives none (see docs/stocks.md).
CREATE TABLE ratios (
  run_id              text NOT NULL,
  symbol              text NOT NULL,
  region              text NOT NULL,
  trading_date        date NOT NULL,
  name                text NOT NULL,
  exchange            text NOT NULL,
  currency            text NOT NULL,
  sector              text NOT NULL,
  price               double precision NOT NULL,
  shares_outstanding  double precision NOT NULL,
  usd_rate            double precision,
  net_income          double precision,
  equity              double precision,
  revenue             double precision,
  ebitda              double precision,
  total_debt          double precision,
  cash                double precision,
  current_assets      double precision,
  current_liabilities double precision,
  dividends_per_share double precision,
  market_cap          double precision NOT NULL,
  market_cap_usd      double precision,
  eps                 double precision,
  pe_ratio            double precision,
  pb_ratio            double precision,
  ps_ratio            double precision,
  enterprise_value    double precision,
  ev_ebitda           double precision,
  debt_to_equity      double precision,
  roe                 double precision,
  current_ratio       double precision,
  dividend_yield      double precision,
  stored_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, symbol)
);
-- GetRatios without a run, and the screener over each symbol's latest figures.
CREATE INDEX ratios_symbol_latest_idx ON ratios (symbol, stored_at DESC);

-- Symbols of a run that could not be processed, once per (run id, symbol).
CREATE TABLE failures (
  run_id    text NOT NULL,
  symbol    text NOT NULL,
  region    text NOT NULL,
  error     text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, symbol)
);
