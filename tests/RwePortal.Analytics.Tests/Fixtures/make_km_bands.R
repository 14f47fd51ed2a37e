# Reference for the Kaplan-Meier confidence band: survfit with case weights and the robust
# (infinitesimal jackknife) variance, log transform, at the reporting horizons.
# Usage: Rscript make_km_bands.R <fixture_dir>   (reads cohort.csv and weights.csv, writes km_bands.json)
suppressMessages({ library(survival); library(jsonlite) })
dir <- commandArgs(trailingOnly = TRUE)[1]
d <- read.csv(file.path(dir, "cohort.csv"))
w <- read.csv(file.path(dir, "weights.csv"))
d <- merge(d, w, by = "person_id")
horizons <- c(90, 180, 365, 730)
fit <- survfit(Surv(time, event) ~ treatment, data = d, weights = weight, robust = TRUE,
               id = person_id, conf.type = "log")
at <- function(arm) {
  s <- summary(fit[paste0("treatment=", arm)], times = horizons, extend = TRUE)
  lapply(seq_along(horizons), function(i) list(time = horizons[i], survival = s$surv[i],
         std_err_log = s$std.err[i] / s$surv[i], lower = s$lower[i], upper = s$upper[i]))
}
res <- list(treated = at(1), control = at(0))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "km_bands.json"))
