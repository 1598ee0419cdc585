"""An RL controller (Zoph and Le, 2017): an LSTM policy over decisions, trained by REINFORCE.

The controller emits the whole joint space (architecture and training recipe) as one
sequence of decisions from ``Space.decisions(num_bins)``: choices directly, numeric ranges
as bins (log-spaced on log ranges). A decision is sampled only when it is active given the
choices before it; inactive positions hold 0 and are not part of the log-probability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from ray.tune.search import Searcher
from torch import nn

from automl_nn.searchers._registry import SearcherSettings, register_searcher
from automl_nn.searchers._sequences import (
    Option,
    at_least,
    check_decidable,
    check_option_values,
    decide_in_order,
    is_bool,
    number_in,
    read_options,
    reward_of,
)
from automl_nn.space import Space, active_decisions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RL_OPTIONS: dict[str, Option] = {
    "lr": Option(0.01, number_in(0.0, float("inf"), low_open=True, high_open=True), "a number > 0"),
    # Defaults chosen on synthetic landscapes over nas.yaml's decisions (benchmark
    # controller_landscape): updates every 2 rewards, entropy against normalized advantages.
    "batch_size": Option(2, at_least(1), "an integer >= 1"),
    "entropy_weight": Option(
        0.02, number_in(0.0, float("inf"), low_open=False, high_open=True), "a number >= 0"
    ),
    "normalize_advantages": Option(True, is_bool, "True or False"),
    "baseline_decay": Option(
        0.8, number_in(0.0, 1.0, low_open=False, high_open=True), "a number in [0, 1)"
    ),
    "hidden_size": Option(64, at_least(1), "an integer >= 1"),
    "num_bins": Option(8, at_least(2), "an integer >= 2"),
    "outlier_share": Option(
        0.1, number_in(0.0, 0.5, low_open=False, high_open=True), "a number in [0, 0.5)"
    ),
}

# A failed trial's reward sits this share of the reward spread below the worst reward seen
# (outliers left out).
FAILURE_MARGIN_SHARE = 0.5
MIN_FAILURE_MARGIN = 1e-3
# A metric reward is an outlier when it lies more than this many spreads of the bulk (the
# rewards once ``outlier_share`` of each end is left out) below the bulk's worst.
OUTLIER_FENCE_SPREADS = 10.0
# Advantages are computed in float64 and clipped to this size before they meet the float32
# policy: a finite metric can be astronomically large (val_mse 7e43 from a regression that
# nearly diverged on diabetes), past float32, whose gradients would turn the weights to NaN.
MAX_ABS_ADVANTAGE = 1e6

Story = list[tuple[dict[str, float], int]]


class ControllerPolicy(nn.Module):
    """Embedding + LSTMCell + one linear head per decision.

    The input of a step is the embedding of the option taken at the previous active decision
    (a start token first) plus an embedding of the decision about to be made, so the state
    knows where it is when inactive decisions are skipped.
    """

    def __init__(self, option_counts: list[int], hidden_size: int) -> None:
        super().__init__()
        offsets = [0]
        for count in option_counts:
            offsets.append(offsets[-1] + count)
        self.offsets = offsets
        self.option_embedding = nn.Embedding(offsets[-1] + 1, hidden_size)
        self.position_embedding = nn.Embedding(len(option_counts), hidden_size)
        self.cell = nn.LSTMCell(hidden_size, hidden_size)
        self.heads = nn.ModuleList(nn.Linear(hidden_size, count) for count in option_counts)

    def start(self) -> tuple[int, tuple[torch.Tensor, torch.Tensor]]:
        """The start token and a zero LSTM state."""
        zeros = torch.zeros(1, self.cell.hidden_size)
        return self.offsets[-1], (zeros, zeros)

    def step(
        self, index: int, token: int, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Log-probabilities of decision ``index``'s options, and the next state."""
        inputs = self.option_embedding(torch.tensor([token])) + self.position_embedding(
            torch.tensor([index])
        )
        hidden, cell = self.cell(inputs, state)
        return torch.log_softmax(self.heads[index](hidden)[0], dim=-1), (hidden, cell)

    def token(self, index: int, option: int) -> int:
        """The input token that says "decision ``index`` took ``option``"."""
        return self.offsets[index] + option


class ControllerSearcher(Searcher):
    """An LSTM controller that learns which decision sequences earn high rewards.

    Trials are suggested while others run; each finished trial's reward joins a batch, and
    every ``batch_size`` rewards make one REINFORCE step (Adam) with a moving-average
    baseline and an entropy bonus. Advantages (reward minus baseline) are divided by the
    spread of the metric rewards seen so far (best minus worst, outliers left out), so the
    entropy weight means the same whether the metric is an accuracy near 0.99 or an MSE in
    the thousands; ``normalize_advantages=False`` uses the raw differences.
    :meth:`drain_story` hands out what each step did (``controller_reward`` per trial,
    ``controller_baseline``, ``controller_entropy`` and ``controller_batch_reward`` per step)
    for MLflow; :meth:`story_figure` plots it.

    The reward is the metric (negated for ``mode="min"``) of what Ray passes to
    ``on_trial_complete``:

    - finished, or stopped early by the scheduler: the last reported value. It is the best
      information there is, and a trial stopped early is already penalized by it.
    - failed (``error=True``) or no finite metric (a diverged loss): the worst metric reward
      seen so far minus a margin (half the spread of those rewards, at least 0.001); skipped
      while no reward has been seen, since there is no scale to penalize on yet.
    - never reported anything (``result=None``, removed before it ran): skipped; its config
      was not tried, so it says nothing about the policy.

    Outliers: a regression that nearly diverged (val_mse 7e43 on diabetes) would stretch the
    spread so far that every later advantage rounds to 0. So a metric reward more than
    ``OUTLIER_FENCE_SPREADS`` (10) spreads of the bulk below the bulk's worst counts as a
    failure and stays out of the spread; the bulk leaves out ``outlier_share`` of the
    rewards at each end (by rank: ``int(outlier_share * n)`` of ``n``, so none before the
    tenth reward at the default 0.1, and which rewards are outliers is judged again with
    every new one). The baseline never sits below the failure reward either, so an outlier
    averaged into it before it could be told apart stops weighing once it can.
    ``outlier_share=0`` keeps every reward as it is.

    Args:
        space: the search space (not fixed).
        metric: the metric whose final value is the reward.
        mode: ``max``, or ``min`` (the reward is then the negated metric).
        seed: seeds the policy's weights and its samples.
        lr: Adam's learning rate.
        batch_size: rewards per policy update.
        entropy_weight: weight of the policy's entropy in the objective (exploration).
        baseline_decay: ``baseline = decay * baseline + (1 - decay) * mean batch reward``.
        normalize_advantages: divide advantages by the reward spread seen (see above).
        hidden_size: size of the embeddings and the LSTM state.
        num_bins: bins per numeric range.
        outlier_share: share of the metric rewards at each end left out of the bulk that
            outliers are judged against (above); 0 judges none an outlier.

    Example:
        >>> from automl_nn.space import Space, choice
        >>> space = Space.from_dict({"training": {"batch_size": choice([32, 64])}})
        >>> searcher = ControllerSearcher(space, "val_accuracy", "max", seed=0, batch_size=1)
        >>> config = searcher.suggest("trial_1")
        >>> config["training"]["batch_size"] in (32, 64)
        True
        >>> searcher.on_trial_complete("trial_1", {"val_accuracy": 0.9})
        >>> [metrics for metrics, step in searcher.drain_story()][0]
        {'controller_reward': 0.9}
    """

    def __init__(
        self,
        space: Space,
        metric: str,
        mode: str,
        seed: int = 0,
        *,
        lr: float = RL_OPTIONS["lr"].default,
        batch_size: int = RL_OPTIONS["batch_size"].default,
        entropy_weight: float = RL_OPTIONS["entropy_weight"].default,
        baseline_decay: float = RL_OPTIONS["baseline_decay"].default,
        normalize_advantages: bool = RL_OPTIONS["normalize_advantages"].default,
        hidden_size: int = RL_OPTIONS["hidden_size"].default,
        num_bins: int = RL_OPTIONS["num_bins"].default,
        outlier_share: float = RL_OPTIONS["outlier_share"].default,
    ) -> None:
        check_option_values(
            {
                "lr": lr,
                "batch_size": batch_size,
                "entropy_weight": entropy_weight,
                "baseline_decay": baseline_decay,
                "normalize_advantages": normalize_advantages,
                "hidden_size": hidden_size,
                "num_bins": num_bins,
                "outlier_share": outlier_share,
            },
            RL_OPTIONS,
            f"{type(self).__name__}.",
        )
        check_decidable(space, "rl")
        super().__init__(metric=metric, mode=mode)
        self.space = space
        self.num_bins = num_bins
        self.decisions = space.decisions(num_bins)
        self.batch_size = batch_size
        self.entropy_weight = entropy_weight
        self.baseline_decay = baseline_decay
        self.normalize_advantages = normalize_advantages
        self.outlier_share = outlier_share
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = ControllerPolicy([len(d.options) for d in self.decisions], hidden_size)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)
        # Everything the learning depends on besides the weights and the RNG; saved whole.
        self.memory: dict[str, Any] = {
            "baseline": None,
            "pending": {},  # trial id -> its decision sequence
            "batch": [],  # (decision sequence, reward) awaiting the next update
            "rewards": [],  # every reward given, in order (for the figure)
            "metric_rewards": [],  # every reward from a metric, as the metric gave it
            "updates": [],  # (rewards so far, baseline, entropy, batch mean) per update
            "story": [],  # (metrics, step) not yet drained
        }

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        choices = self._sample()
        self.memory["pending"][trial_id] = choices
        return self.space.config_from_decisions(choices, self.num_bins)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Give the trial its reward (see the module's rules); update every ``batch_size``."""
        choices = self.memory["pending"].pop(trial_id, None)
        if choices is None or (result is None and not error):
            return
        reward = self._reward(result, error)
        if reward is None:
            return
        self.memory["rewards"].append(reward)
        self.memory["story"].append(({"controller_reward": reward}, len(self.memory["rewards"])))
        self.memory["batch"].append((choices, reward))
        if len(self.memory["batch"]) >= self.batch_size:
            self._update()

    def probability_of(self, choices: list[int]) -> float:
        """The policy's probability of a decision sequence (inactive positions ignored)."""
        with torch.no_grad():
            log_probability, _ = self._score(choices)
        return float(log_probability.exp())

    def drain_story(self) -> Story:
        """The ``(metrics, step)`` points recorded since the last call, oldest first."""
        story, self.memory["story"] = self.memory["story"], []
        return story

    def story_figure(self) -> Figure:
        """Reward per trial with the baseline and batch means, and the entropy per update."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 6))
        rewards_axis, entropy_axis = figure.subplots(2, 1)
        rewards = self.memory["rewards"]
        updates = self.memory["updates"]
        rewards_axis.plot(range(1, len(rewards) + 1), rewards, "o", alpha=0.6, label="reward")
        if updates:
            at_trial, baselines, entropies, means = zip(*updates, strict=True)
            rewards_axis.step(at_trial, baselines, where="post", label="baseline")
            rewards_axis.plot(at_trial, means, "s-", label="batch mean reward")
            entropy_axis.plot(range(1, len(updates) + 1), entropies, "o-")
        rewards_axis.set(xlabel="rewarded trial", ylabel="reward", title="RL controller")
        rewards_axis.legend()
        entropy_axis.set(xlabel="policy update", ylabel="entropy (nats per sequence)")
        figure.tight_layout()
        return figure

    def save(self, checkpoint_path: str) -> None:
        torch.save(
            {
                "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(),
                **self.memory,
            },
            checkpoint_path,
        )

    def restore(self, checkpoint_path: str) -> None:
        saved = torch.load(checkpoint_path, weights_only=True)
        self.policy.load_state_dict(saved.pop("policy"))
        self.optimizer.load_state_dict(saved.pop("optimizer"))
        self.generator.set_state(saved.pop("generator"))
        if "metric_range" in saved:  # a checkpoint from before 2026-11-28 kept only the ends
            known = saved.pop("metric_range")
            saved["metric_rewards"] = [] if known is None else list(known)
        self.memory = saved

    def _sample(self) -> list[int]:
        token, state = self.policy.start()

        def pick(index: int) -> int:
            nonlocal token, state
            log_probabilities, state = self.policy.step(index, token, state)
            option = int(
                torch.multinomial(log_probabilities.exp(), 1, generator=self.generator).item()
            )
            token = self.policy.token(index, option)
            return option

        with torch.no_grad():
            return decide_in_order(self.decisions, pick)

    def _score(self, choices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability of the sequence, and the entropy summed over its active steps."""
        token, state = self.policy.start()
        log_probability = torch.zeros(())
        entropy = torch.zeros(())
        for index in active_decisions(self.decisions, choices):
            log_probabilities, state = self.policy.step(index, token, state)
            log_probability = log_probability + log_probabilities[choices[index]]
            entropy = entropy - (log_probabilities.exp() * log_probabilities).sum()
            token = self.policy.token(index, choices[index])
        return log_probability, entropy

    def _update(self) -> None:
        """One REINFORCE step on the batch: advantages against the moving-average baseline."""
        batch, self.memory["batch"] = self.memory["batch"], []
        rewards = torch.tensor([reward for _, reward in batch], dtype=torch.float64)
        mean_reward = float(rewards.mean())
        # The first batch's mean is the first baseline: a zero baseline would push every
        # sequence of the first batch up, whatever its reward.
        baseline = self.memory["baseline"]
        baseline = mean_reward if baseline is None else self._at_least_a_failure(baseline)
        log_probabilities, entropies = zip(
            *(self._score(choices) for choices, _ in batch), strict=True
        )
        entropy = torch.stack(entropies).mean()
        advantages = ((rewards - baseline) / self._advantage_scale()).clamp(
            -MAX_ABS_ADVANTAGE, MAX_ABS_ADVANTAGE
        )
        loss = -(advantages.float() * torch.stack(log_probabilities)).mean()
        loss = loss - self.entropy_weight * entropy
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.memory["baseline"] = (
            self.baseline_decay * baseline + (1 - self.baseline_decay) * mean_reward
        )
        self._record_update(baseline, entropy.item(), mean_reward)

    def _advantage_scale(self) -> float:
        """One unit of advantage: the spread of the metric rewards, or 1 without normalizing.

        At least ``MIN_FAILURE_MARGIN``, so equal rewards with a failure among them give the
        failure an advantage of about -1 rather than a division by zero.
        """
        known = self._metric_range()
        if not self.normalize_advantages or known is None:
            return 1.0
        worst, best = known
        return max(best - worst, MIN_FAILURE_MARGIN)

    def _record_update(self, baseline: float, entropy: float, mean_reward: float) -> None:
        self.memory["updates"].append((len(self.memory["rewards"]), baseline, entropy, mean_reward))
        metrics = {
            "controller_baseline": baseline,
            "controller_entropy": entropy,
            "controller_batch_reward": mean_reward,
        }
        self.memory["story"].append((metrics, len(self.memory["updates"])))

    def _reward(self, result: dict[str, Any] | None, error: bool) -> float | None:
        reward = None if error else reward_of(result, self.metric, self.mode)
        if reward is None:
            return self._failure_reward()
        self.memory["metric_rewards"].append(reward)
        return self._at_least_a_failure(reward)

    def _metric_range(self) -> tuple[float, float] | None:
        """(worst, best) of the metric rewards that are not outliers; None before any.

        Penalties are not metric rewards, so failures in a row do not push each other down.
        """
        rewards = sorted(self.memory["metric_rewards"])
        if not rewards:
            return None
        left_out = int(self.outlier_share * len(rewards))
        bulk_worst, bulk_best = rewards[left_out], rewards[len(rewards) - 1 - left_out]
        spread = max(bulk_best - bulk_worst, MIN_FAILURE_MARGIN)
        fence = bulk_worst - OUTLIER_FENCE_SPREADS * spread
        return next(reward for reward in rewards if reward >= fence), rewards[-1]

    def _failure_reward(self) -> float | None:
        """The worst metric reward (outliers left out) minus a margin; None before any."""
        known = self._metric_range()
        if known is None:
            return None
        worst, best = known
        return worst - max(FAILURE_MARGIN_SHARE * (best - worst), MIN_FAILURE_MARGIN)

    def _at_least_a_failure(self, reward: float) -> float:
        """``reward``, or the failure reward where it is worse (an outlier)."""
        floor = self._failure_reward()
        return reward if floor is None else max(reward, floor)


def _check_rl(settings: SearcherSettings) -> None:
    read_options(settings, RL_OPTIONS)
    check_decidable(settings.space, "rl")


@register_searcher("rl", options=tuple(RL_OPTIONS), check=_check_rl)
def make_rl(settings: SearcherSettings) -> Searcher:
    return ControllerSearcher(
        settings.space,
        settings.metric,
        settings.mode,
        settings.seed,
        **read_options(settings, RL_OPTIONS),
    )
