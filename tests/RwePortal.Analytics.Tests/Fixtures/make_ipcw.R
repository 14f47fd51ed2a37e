# Reference for stabilised inverse-probability-of-censoring weights from pooled logistic models, as R TrialEmulation
# computes them: person-period rows, numerator glm(1 - censored ~ baseline + period + I(period^2)), denominator
# glm(1 - censored ~ baseline + time-varying + period + I(period^2)), wtC = pC_n / pC_d per row, weight = cumprod(wtC)
# within each person in period order, truncation at the 1st/99th percentile with quantile(type = 1) (p99_weight).
# Usage: Rscript make_ipcw.R <out_dir> <seed>   (writes rows.csv and expected.json)
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; set.seed(as.integer(args[2]))
persons <- 400
rows <- do.call(rbind, lapply(seq_len(persons), function(p) {
  age <- round(rnorm(1, 0, 1), 4); sex <- rbinom(1, 1, 0.5)
  periods <- sample(3:10, 1)
  biomarker <- 0; out <- NULL
  for (k in 0:(periods - 1)) {
    biomarker <- round(0.7 * biomarker + rnorm(1, 0.2 * age, 0.6), 4)
    hospital <- rbinom(1, 1, plogis(-2 + 0.8 * biomarker))
    pc <- plogis(-3.2 + 0.3 * age + 0.2 * sex + 0.9 * biomarker + 0.8 * hospital + 0.05 * k)
    censored <- rbinom(1, 1, pc)
    out <- rbind(out, data.frame(id = p, period = k, censored = censored, age = age, sex = sex,
                                 biomarker = biomarker, hospital = hospital))
    if (censored == 1) break
  }
  out
}))
rows <- rows[sample(nrow(rows)), ]   # the engine must not rely on the input order
write.csv(rows, file.path(dir, "rows.csv"), row.names = FALSE)
num <- glm(1 - censored ~ age + sex + period + I(period^2), data = rows, family = binomial)
den <- glm(1 - censored ~ age + sex + biomarker + hospital + period + I(period^2), data = rows, family = binomial)
rows$p_n <- fitted(num); rows$p_d <- fitted(den); rows$ratio <- rows$p_n / rows$p_d
o <- order(rows$id, rows$period)
rows$weight <- NA
rows$weight[o] <- ave(rows$ratio[o], rows$id[o], FUN = cumprod)
lim <- quantile(rows$weight, prob = c(0.01, 0.99), type = 1)
rows$weight_truncated <- pmin(pmax(rows$weight, lim[1]), lim[2])
res <- list(rows = nrow(rows), censored = sum(rows$censored),
            numerator = as.list(coef(num)), denominator = as.list(coef(den)),
            truncation = list(low = unname(lim[1]), high = unname(lim[2])),
            per_row = lapply(seq_len(nrow(rows)), function(i) list(id = rows$id[i], period = rows$period[i],
              p_n = rows$p_n[i], p_d = rows$p_d[i], weight = rows$weight[i], weight_truncated = rows$weight_truncated[i])))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(dir, "expected.json"))
