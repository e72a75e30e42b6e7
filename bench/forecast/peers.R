# Classical forecasting peers for bench/forecast, computed with Hyndman's R `forecast` package
# (Debian r-cran-forecast 8.20), the reference implementation that statsforecast's AutoETS,
# AutoTheta, MSTL and AutoARIMA port. Driven by peers.mjs; data arrives and leaves as temp JSON.
#
#   Rscript peers.R run <in.json> <out.json>              # jobs -> forecasts (see peers.mjs)
#   Rscript peers.R dataset <pkg> <name> <out.json>       # an R dataset, e.g. forecast taylor
#
# Each model is used the way a practitioner uses the package on this kind of data; every fit
# sees only y[0..t) (or its last `window` points) and forecasts y[t..t+h). m = shortest period.
#
# - AutoETS: ets() on ts(y, frequency = m) when 2 <= m <= 24 (ets() refuses seasonal periods
#   above 24 and silently drops the season). For m > 24, stlf(ts(y, frequency = m), method =
#   "ets"): STL-deseasonalise, ETS on the adjusted series, seasonal naive for the season, which
#   is what ?ets and ?stlf recommend for high-frequency data. stlf needs two full cycles; with
#   fewer, a non-seasonal ets().
# - AutoTheta: thetaf() on ts(y, frequency = m). thetaf itself tests the season (ACF at lag m,
#   90 %) and, when seasonal, deseasonalises multiplicatively with classical decomposition; it
#   falls back to the non-seasonal method when a seasonal index is near zero (series with
#   night-time zeros).
# - MSTL: mstl() on msts(y, periods with at least two full cycles, i.e. p < n/2, the rule mstl
#   applies itself), forecast(fit, h, method = "ets"): ETS (ZZN) on the seasonally adjusted
#   series plus seasonal naive for every seasonal component. No usable period: mstl on a plain
#   ts (trend by supsmu), same forecast.
# - AutoARIMA: regression on Fourier terms with ARIMA errors, auto.arima(y, xreg = fourier(y,
#   K), seasonal = FALSE, stepwise = TRUE, approximation = TRUE), K = min(floor(p/2), 5) per
#   period with p < n/2: the documented approach for long and multiple seasonal periods (FPP
#   ch. "Complex seasonality"), and the only one that runs in bounded time at n in the tens of
#   thousands. Exception: a single usable period <= 24 with n <= 2000 uses an ordinary seasonal
#   auto.arima(ts(y, frequency = m)) with the same stepwise/approximation settings.
#   The model search costs 3-30 CPU s per origin at n = 1,000-21,000, so the full selection
#   (orders and coefficients) runs at the first origin and every `refitEvery`-th after it; at
#   the origins between, Arima(y, model = fit) re-applies the last selected model to the longer
#   history with coefficients held (filter only, ~0.03 s), the way statsforecast's
#   cross_validation(refit = k) does. Both only ever see y[0..t). Fourier terms and drift use
#   absolute time so a re-applied model stays in phase when a `window` shifts. `refitted` per
#   origin says which origins ran the full selection. refitEvery = 1 selects at every origin.
# - Bands: level = 80, p90 = upper bound of the 80 % interval, p50 = point forecast (mean).
#   Nothing is clipped (a negative p50 on a count series stays negative).
# - Missing values in the training window are filled with na.interp(), as the package's own
#   functions (mstl) do.
# - Every origin is timed: elapsed and CPU seconds (fit + forecast; CPU time is the figure that
#   survives a busy machine). A failure on one origin records
#   NaN for that origin and the error text; the run goes on. (No per-fit time limit:
#   setTimeLimit's error is swallowed by auto.arima's own try() around each candidate.)
# - Progress goes to stderr as lines "@@progress <job index> <model> <origin index> <seconds>".

suppressPackageStartupMessages({
  library(forecast)
  library(jsonlite)
})

MODELS <- c("AutoETS", "AutoTheta", "MSTL", "AutoARIMA")

usable_periods <- function(periods, n) {
  p <- sort(unique(periods[periods >= 2]))
  p[p < n / 2]
}

fit_ets <- function(y, periods, h) {
  m <- round(min(periods))
  n <- length(y)
  if (m >= 2 && m <= 24 && n > m) {
    return(forecast(ets(ts(y, frequency = m)), h = h, level = 80))
  }
  if (m > 24 && n > 2 * m) {
    return(stlf(ts(y, frequency = m), h = h, method = "ets", level = 80))
  }
  forecast(ets(ts(y, frequency = 1)), h = h, level = 80)
}

fit_theta <- function(y, periods, h) {
  m <- round(min(periods))
  thetaf(ts(y, frequency = max(1, m)), h = h, level = 80)
}

fit_mstl <- function(y, periods, h) {
  p <- usable_periods(periods, length(y))
  x <- if (length(p) > 0) msts(y, seasonal.periods = p) else ts(y, frequency = 1)
  forecast(mstl(x), h = h, method = "ets", level = 80)
}

# Fourier terms at absolute times (1-based positions in the whole series), so a model selected
# at one origin can be re-applied to a later, possibly shifted, window. Same columns and labels
# as fourier(), whose times are 1:n of the series it is given.
fourier_at <- function(p, K, times) {
  get("...fourier", envir = asNamespace("forecast"))(msts(0, seasonal.periods = p), K, times)
}

# Returns list(fc, state). state (the selected model and its layout) lets a later origin re-apply
# the same model with coefficients held: Arima(y, model = fit), which only runs the filter.
fit_arima <- function(values, lo, t, periods, h, prev) {
  y <- values[lo:t]
  n <- length(y)
  if (is.null(prev)) {
    p <- usable_periods(periods, n)
    kind <- if (length(p) == 0) "plain"
      else if (length(p) == 1 && p <= 24 && n <= 2000 && p == round(p)) "seasonal"
      else "fourier"
    K <- if (kind == "fourier") pmin(floor(p / 2), 5) else NULL
  } else {
    p <- prev$p
    kind <- prev$kind
    K <- prev$K
  }
  x <- switch(kind,
    plain = ts(y, start = lo),
    seasonal = ts(y, start = c(1, lo), frequency = p),
    fourier = msts(y, seasonal.periods = p, start = 1 + (lo - 1) / floor(max(p)))
  )
  xreg <- if (kind == "fourier") fourier_at(p, K, lo:t) else NULL
  newxreg <- if (kind == "fourier") fourier_at(p, K, (t + 1):(t + h)) else NULL
  fit <- if (!is.null(prev)) {
    Arima(x, model = prev$fit, xreg = xreg)
  } else if (kind == "fourier") {
    auto.arima(x, xreg = xreg, seasonal = FALSE, stepwise = TRUE, approximation = TRUE)
  } else {
    auto.arima(x, stepwise = TRUE, approximation = TRUE)
  }
  fc <- forecast(fit, h = h, xreg = newxreg, level = 80)
  list(fc = fc, state = list(fit = if (is.null(prev)) fit else prev$fit, p = p, kind = kind, K = K))
}

FITS <- list(AutoETS = fit_ets, AutoTheta = fit_theta, MSTL = fit_mstl)

# One model at one origin; returns list(mean, upper, state, refitted) or list(error).
fit_one <- function(model, values, lo, t, periods, h, state, refit) {
  tryCatch({
    if (t < 1 || t > length(values)) stop("origin outside the series")
    if (anyNA(values[lo:t])) values[lo:t] <- as.numeric(na.interp(ts(values[lo:t])))
    refitted <- TRUE
    if (model == "AutoARIMA") {
      res <- NULL
      if (!refit && !is.null(state)) {
        # Re-apply the model selected at an earlier origin; select afresh if that fails.
        res <- tryCatch(suppressWarnings(fit_arima(values, lo, t, periods, h, state)),
                        error = function(e) NULL)
        refitted <- is.null(res)
      }
      if (is.null(res)) res <- suppressWarnings(fit_arima(values, lo, t, periods, h, NULL))
      fc <- res$fc
      state <- res$state
    } else {
      fc <- suppressWarnings(FITS[[model]](values[lo:t], periods, h))
    }
    list(mean = as.numeric(fc$mean), upper = as.numeric(fc$upper[, 1]), state = state,
         refitted = refitted)
  }, error = function(e) list(error = conditionMessage(e)))
}

run_job <- function(job, index) {
  values <- as.numeric(job$values)
  h <- as.integer(job$horizon)
  origins <- as.integer(job$origins)
  periods <- as.numeric(job$periods)
  window <- if (is.null(job$window)) NA_integer_ else as.integer(job$window)
  refit_every <- if (is.null(job$refitEvery)) 1L else max(1L, as.integer(job$refitEvery))
  out <- list()
  for (model in MODELS) {
    p50 <- matrix(NA_real_, nrow = length(origins), ncol = h)
    p90 <- matrix(NA_real_, nrow = length(origins), ncol = h)
    seconds <- rep(NA_real_, length(origins))
    cpu <- rep(NA_real_, length(origins))
    refitted <- rep(TRUE, length(origins))
    errors <- character(0)
    state <- NULL
    for (i in seq_along(origins)) {
      t <- origins[i]
      lo <- if (is.na(window)) 1L else max(1L, t - window + 1L) # y[0..t) is values[lo:t]
      t0 <- proc.time()
      res <- fit_one(model, values, lo, t, periods, h, state, (i - 1L) %% refit_every == 0L)
      dt <- proc.time() - t0
      seconds[i] <- dt[["elapsed"]]
      cpu[i] <- dt[["user.self"]] + dt[["sys.self"]]
      if (is.null(res$error)) {
        p50[i, ] <- res$mean[seq_len(h)]
        p90[i, ] <- res$upper[seq_len(h)]
        state <- res$state
        refitted[i] <- res$refitted
      } else {
        errors <- c(errors, sprintf("origin %d: %s", t, trimws(res$error)))
      }
      cat(sprintf("@@progress %d %s %d %.3f\n", index, model, i - 1L, seconds[i]), file = stderr())
    }
    entry <- list(p50 = p50, p90 = p90, seconds = seconds, cpuSeconds = cpu,
                  refitted = refitted)
    if (length(errors) > 0) entry$error <- unbox(paste(unique(errors), collapse = "; "))
    out[[model]] <- entry
  }
  out
}

main <- function(args) {
  if (length(args) >= 3 && args[1] == "run") {
    input <- fromJSON(args[2], simplifyVector = TRUE, simplifyDataFrame = FALSE)
    jobs <- input$jobs
    result <- list()
    for (k in seq_along(jobs)) {
      result[[jobs[[k]]$id]] <- run_job(jobs[[k]], k - 1L)
    }
    writeLines(toJSON(result, digits = NA, na = "null", matrix = "rowmajor"),
               args[3])
  } else if (length(args) >= 4 && args[1] == "dataset") {
    e <- new.env()
    utils::data(list = args[3], package = args[2], envir = e)
    x <- get(args[3], envir = e)
    out <- list(values = as.numeric(x), frequency = frequency(x), start = as.numeric(start(x)))
    if (!is.null(attr(x, "msts"))) out$msts <- as.numeric(attr(x, "msts"))
    writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = FALSE), args[4])
  } else {
    stop("usage: peers.R run <in.json> <out.json> | peers.R dataset <pkg> <name> <out.json>")
  }
}

main(commandArgs(trailingOnly = TRUE))
