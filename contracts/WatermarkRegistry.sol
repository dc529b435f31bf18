// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {IFLTask} from "../interfaces/IFLTask.sol";
import {IWatermarkRegistry} from "../interfaces/IWatermarkRegistry.sol";
import {Bits} from "./libraries/Bits.sol";

/// @title WatermarkRegistry — on-chain negotiation of FedIPR watermark keys
/// @notice Keys are drawn on chain, so no owner picks its own bits, and kept `minDistance` bits
/// apart from every other owner's of the same task, so that no owner's signature can be taken
/// for another's ("Tokenized Model", Li, Lai, Liao, Chen, Zheng, 2023; FedIPR, Li et al., TPAMI 2022).
/// @dev A draw is keccak256(chain id, block number, this registry, task, owner, nonce), the nonce
/// counting every draw of the registry. The block data used is the number, not the hash or the
/// timestamp: a local Ganache stamps blocks with the wall clock, and the same experiment must give
/// the same keys. Keys are public once drawn (anyone can then check a model for them); on a public
/// chain, mix `block.prevrandao` into the draw so that the next key cannot be foreseen.
contract WatermarkRegistry is IWatermarkRegistry {
    /// @notice Draws tried for one owner before giving up.
    uint256 public constant MAX_DRAWS = 32;

    struct Settings {
        uint16 bits;
        uint16 minDistance;
    }

    struct KeyRecord {
        address task;
        address owner;
        bytes32 key;
    }

    /// @notice Draws made so far, over all tasks; the next draw's nonce.
    uint256 public nonce;

    mapping(address => Settings) private _settings;
    mapping(address => address[]) private _owners;
    mapping(address => mapping(address => bytes32)) private _keys;
    mapping(bytes32 => KeyRecord) private _records;

    /// @inheritdoc IWatermarkRegistry
    function configureTask(address task, uint256 bits, uint256 minDistance) external {
        if (msg.sender != IFLTask(task).aggregator()) revert NotTaskAggregator(task, msg.sender);
        if (_settings[task].bits != 0) revert AlreadyConfigured(task);
        if (bits == 0 || bits > 256 || minDistance > bits) revert BadSettings(bits, minDistance);
        _settings[task] = Settings(uint16(bits), uint16(minDistance));
        emit TaskConfigured(task, bits, minDistance);
    }

    /// @inheritdoc IWatermarkRegistry
    function negotiate(address task) external returns (bytes32 key) {
        Settings memory s = _settings[task];
        if (s.bits == 0) revert NotConfigured(task);
        if (IFLTask(task).clientId(msg.sender) == 0) revert NotTaskClient(task, msg.sender);
        if (_keys[task][msg.sender] != bytes32(0)) revert AlreadyHasKey(task, msg.sender);

        address[] storage owners = _owners[task];
        uint256 mask = s.bits == 256 ? type(uint256).max : (uint256(1) << s.bits) - 1;
        uint256 draw = nonce;
        for (uint256 tries = 0; tries < MAX_DRAWS; ++tries) {
            key = keccak256(abi.encode(block.chainid, block.number, address(this), task, msg.sender, draw));
            (uint256 distance, address closest) = _nearest(task, owners, uint256(key) & mask, mask);
            ++draw;
            if (distance >= s.minDistance) {
                nonce = draw;
                bytes32 commitment = keccak256(abi.encodePacked(key));
                _keys[task][msg.sender] = key;
                _records[commitment] = KeyRecord(task, msg.sender, key);
                owners.push(msg.sender);
                emit WatermarkKeyAssigned(task, msg.sender, commitment, key, s.bits, draw - 1);
                return key;
            }
            emit KeyRedrawn(task, msg.sender, draw - 1, distance, closest);
        }
        revert NoDistantKey(task, msg.sender, MAX_DRAWS);
    }

    /// @inheritdoc IWatermarkRegistry
    function settingsOf(address task) external view returns (uint256 bits, uint256 minDistance) {
        Settings memory s = _settings[task];
        return (s.bits, s.minDistance);
    }

    /// @inheritdoc IWatermarkRegistry
    function ownersOf(address task) external view returns (address[] memory) {
        return _owners[task];
    }

    /// @inheritdoc IWatermarkRegistry
    function keyOf(address task, address owner) external view returns (bytes32) {
        return _keys[task][owner];
    }

    /// @inheritdoc IWatermarkRegistry
    function commitmentOf(address task, address owner) external view returns (bytes32) {
        bytes32 key = _keys[task][owner];
        return key == bytes32(0) ? bytes32(0) : keccak256(abi.encodePacked(key));
    }

    /// @inheritdoc IWatermarkRegistry
    function keyRecord(bytes32 commitment)
        external
        view
        returns (address task, address owner, bytes32 key, uint256 bits)
    {
        KeyRecord memory r = _records[commitment];
        if (r.key == bytes32(0)) revert UnknownCommitment(commitment);
        return (r.task, r.owner, r.key, _settings[r.task].bits);
    }

    /// @dev The smallest Hamming distance from `signature` to an owner's signature, and that owner
    /// (type(uint256).max and nobody when the task has no owner yet).
    function _nearest(address task, address[] storage owners, uint256 signature, uint256 mask)
        private
        view
        returns (uint256 best, address closest)
    {
        best = type(uint256).max;
        for (uint256 i = 0; i < owners.length; ++i) {
            uint256 d = Bits.popcount((uint256(_keys[task][owners[i]]) & mask) ^ signature);
            if (d < best) (best, closest) = (d, owners[i]);
        }
    }
}
