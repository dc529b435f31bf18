// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title ICommittee — the committee consensus of one FLTask (CMFL)
/// @notice Che, Li, Chen, He, Zheng, "A Decentralized Federated Learning Framework via Committee
/// Mechanism with Convergence Guarantee", IEEE TPDS 2022. Each round a committee of clients
/// scores the other clients' committed updates; the contract takes the median score per client,
/// selects which updates are aggregated (selection strategy) and elects the next round's
/// committee (election strategy). The task refuses to finalize with any other participant set.
///
/// Scoring starts when the task closed the round's commit phase (`IFLTask.closeCommits`), so
/// the candidates are fixed: the round's committed set, in ascending id. A member's score
/// vector has one entry per committed client, in that order (entries of members are ignored),
/// so its length is bounded by the round, not by the number of registered clients.
/// Scores are integers; 0 means "reject" (an invalid or missing update). A client is eligible
/// when it committed to the round, is not on its committee and its median score is positive.
/// Ranking: by median score, ties to the lower id. `Robust` selects the highest medians (the
/// updates closest to the committee's own), `Accuracy` the lowest (the most novel, per the
/// paper's accuracy-oriented strategy); either way max(1, floor(eligible * selectBps / 10000))
/// updates are selected. The next committee is the `size` eligible clients with the highest
/// medians (ties to the lower id), topped up from the current committee in ascending id.
interface ICommittee {
    /// @notice Which updates the selection strategy keeps.
    enum Strategy {
        Robust,
        Accuracy
    }

    /// @notice `members` (ascending ids) form the committee of round `round`.
    event CommitteeElected(uint256 indexed round, uint256[] members);
    /// @notice Committee member `memberId` scored round `round`'s updates (`scores[k]` for the
    /// k-th committed client, ascending id).
    event ScoresSubmitted(uint256 indexed round, uint256 indexed memberId, uint32[] scores);
    /// @notice Round `round`'s scores were tallied: `medians[k]` of the k-th committed client
    /// (ascending id; 0: not eligible), `selected` (bitmap) the updates to aggregate.
    event RoundTallied(uint256 indexed round, uint256[] selected, uint32[] medians);

    error NotTask(address caller);
    error NotCommitteeMember(uint256 round, address account);
    error AlreadyScored(uint256 round, uint256 memberId);
    error RoundNotScoring(uint256 round);
    error AlreadyTallied(uint256 round);
    error NotTallied(uint256 round);
    error ScoringIncomplete(uint256 round, uint256 scored, uint256 members);
    error NoQuorum(uint256 round, uint256 scored, uint256 quorum);
    error SelectionMismatch(uint256 round);
    error ScoreCountMismatch(uint256 expected, uint256 given);
    error CommitsStillOpen(uint256 round);
    error InvalidCommittee(uint256 size, uint256 selectBps);
    error InvalidMember(uint256 clientId);

    /// @notice Submit, as a member of round `round`'s committee, one score per committed client.
    /// @dev Once per member and round, after the task closed the round's commit phase, while the
    /// round is the task's current one and not yet tallied (`CommitsStillOpen` before).
    /// @param scores `scores[k]` scores the k-th client of the round's committed set (ascending
    /// id); entries of members are ignored
    function submitScores(uint256 round, uint32[] calldata scores) external;

    /// @notice Take the median scores of round `round`, select its updates and elect the next committee.
    /// @dev Anyone, once every member scored; the aggregator as soon as a majority of the members did
    /// (so that a silent member cannot stall the task). Only after the commit phase closed.
    function tally(uint256 round) external;

    /// @notice The task this committee serves.
    function task() external view returns (address);

    /// @notice The committee of `round` (ascending ids; empty before it is elected).
    function membersOf(uint256 round) external view returns (uint256[] memory);

    /// @notice The members who scored `round`, in submission order.
    function scorersOf(uint256 round) external view returns (uint256[] memory);

    /// @notice The scores member `memberId` gave in `round` (empty if none).
    function scoresOf(uint256 round, uint256 memberId) external view returns (uint32[] memory);

    /// @notice The median score of client `id` in the tallied round `round` (0: not eligible).
    function medianScore(uint256 round, uint256 id) external view returns (uint256);

    /// @notice The median score of each committed client of the tallied `round` (`[k]`: the k-th
    /// committed client in ascending id, see `scoredOf`; 0: not eligible).
    function mediansOf(uint256 round) external view returns (uint32[] memory);

    /// @notice Bitmap of the clients the tallied `round`'s score vectors and medians index
    /// (the round's committed set; empty before the tally).
    function scoredOf(uint256 round) external view returns (uint256[] memory);

    /// @notice Bitmap of the updates selected in `round` (empty before the tally).
    function selectedOf(uint256 round) external view returns (uint256[] memory);

    /// @notice Whether `round` was tallied.
    function isTallied(uint256 round) external view returns (bool);
}
