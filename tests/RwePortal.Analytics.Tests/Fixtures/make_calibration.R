# Reference for empirical calibration: the negative controls shipped with OHDSI EmpiricalCalibration (data/sccs.rda
# and data/cohortMethod.rda, groundTruth == 0), the package's fitNull (its C++ likelihood written out in R,
# Nelder-Mead from (mean 0, precision 1) exactly as fitNull calls optim) and the exact maximum-likelihood null
# (the same likelihood maximised to full precision), then calibrateP, calibrateConfidenceInterval through
# convertNullToErrorModel (slope 1, sd slope 0, uniroot as the package) and computeExpectedAbsoluteSystematicError
# (the package's closed form) for every control and positive control.
# Usage: Rscript make_calibration.R <dir with sccs.rda and cohortMethod.rda> <out_dir>
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
load(file.path(args[1], "sccs.rda")); load(file.path(args[1], "cohortMethod.rda"))
negLl <- function(theta, logRr, seLogRr) {   # src/RcppWrapper.cpp logLikelihoodNull
  if (theta[2] <= 0) return(Inf)
  sd <- 1 / sqrt(theta[2])
  if (sd < 1e-6) return(-sum(dnorm(theta[1], logRr, seLogRr, log = TRUE)))
  s2 <- sd^2 + seLogRr^2
  -sum(log((1 / (sqrt(2 * pi) * sqrt(s2))) * exp(-(logRr - theta[1])^2 / (2 * s2))))
}
exactNull <- function(logRr, seLogRr) {
  f <- function(p) { s2 <- p[2]^2 + seLogRr^2; -sum(dnorm(logRr, p[1], sqrt(s2), log = TRUE)) }
  o <- optim(c(mean(logRr), sd(logRr)), f, method = "L-BFGS-B", lower = c(-Inf, 0),
             control = list(factr = 1, pgtol = 0))
  o <- optim(o$par, f, method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
  c(o$par[1], abs(o$par[2]))
}
packageNull <- function(logRr, seLogRr) {
  fit <- optim(c(0, 1), negLl, logRr = logRr, seLogRr = seLogRr)
  c(fit$par[1], 1 / sqrt(fit$par[2]))
}
calibrateP <- function(null, logRr, seLogRr) {
  up <- pnorm((null[1] - logRr) / sqrt(null[2]^2 + seLogRr^2))
  lo <- pnorm((logRr - null[1]) / sqrt(null[2]^2 + seLogRr^2))
  2 * pmin(up, lo)
}
calibrateCi <- function(null, logRr, seLogRr, ciWidth = 0.95) {
  model <- c(null[1], 1, null[2], 0)
  opt <- function(x, z) z + (model[1] + model[2] * x - logRr) / sqrt((model[3] + model[4] * abs(x))^2 + seLogRr^2)
  bound <- function(w, lb) { z <- qnorm((1 - w) / 2); if (lb) z <- -z
    uniroot(opt, c(-100, 100), z = z, tol = 1e-12)$root }
  lb <- bound(ciWidth, TRUE); ub <- bound(ciWidth, FALSE)
  list(log_rr = bound(0, TRUE), lower = lb, upper = ub, se_log_rr = (lb - ub) / (2 * qnorm((1 - ciWidth) / 2)))
}
ease <- function(mu, sigma) {   # R/ExpectedSystematicError.R closedFormIntegeralAbsolute
  F <- function(x) mu * pnorm(x, mu, sigma) - 1 - sigma^2 * dnorm(x, mu, sigma)
  F(Inf) - 2 * F(0) + F(-Inf)
}
one <- function(d) {
  d$groundTruth <- as.numeric(as.character(d$groundTruth))
  neg <- d[d$groundTruth == 0, ]
  exact <- exactNull(neg$logRr, neg$seLogRr)
  pkg <- packageNull(neg$logRr, neg$seLogRr)
  list(controls = lapply(seq_len(nrow(neg)), function(i) list(log_rr = neg$logRr[i], se_log_rr = neg$seLogRr[i])),
       package_null = list(mean = pkg[1], sd = pkg[2]),
       null = list(mean = exact[1], sd = exact[2]),
       ease = ease(exact[1], exact[2]),
       estimates = lapply(seq_len(nrow(d)), function(i) c(list(log_rr_in = d$logRr[i], se_log_rr_in = d$seLogRr[i],
         p = calibrateP(exact, d$logRr[i], d$seLogRr[i])), calibrateCi(exact, d$logRr[i], d$seLogRr[i]))))
}
res <- list(sccs = one(sccs), cohort_method = one(cohortMethod))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(args[2], "expected.json"))
